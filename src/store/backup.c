/*
 * backup.c — backup and restore of a whole store. SQLite uses its online backup API (a
 * consistent copy page by page, other connections keep working); PostgreSQL uses its own
 * pg_dump / pg_restore, which we run rather than imitate.
 */
#include "store/store_int.h"

#include <spawn.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static bool is_pg(const char *url)
{
    return strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0;
}

static err run(char *const argv[], problem *p)
{
    pid_t pid;
    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0)
        return problem_set(p, ERR_BUSY, 503, "unavailable", "", "cannot run %s (is it installed?)",
                           argv[0]);
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return problem_set(p, ERR_STORE, 500, "internal", "", "%s failed (exit %d)", argv[0],
                           WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    return ERR_OK;
}

/* copy `from` into `to` with the SQLite backup API */
static err lite_copy(const char *from, const char *to, bool create_to, problem *p)
{
    sqlite3 *src = NULL, *dst = NULL;
    err rc = ERR_OK;
    if (sqlite3_open_v2(from, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
        rc = problem_set(p, ERR_NOTFOUND, 400, "invalidField", "from", "cannot open %s: %s", from,
                         sqlite3_errmsg(src));
        goto out;
    }
    if (sqlite3_open_v2(to, &dst, SQLITE_OPEN_READWRITE | (create_to ? SQLITE_OPEN_CREATE : 0),
                        NULL) != SQLITE_OK) {
        rc = problem_set(p, ERR_STORE, 400, "invalidField", "to", "cannot open %s: %s", to,
                         sqlite3_errmsg(dst));
        goto out;
    }
    sqlite3_busy_timeout(src, 10000);
    sqlite3_busy_timeout(dst, 10000);
    sqlite3_backup *b = sqlite3_backup_init(dst, "main", src, "main");
    if (!b) {
        rc = problem_set(p, ERR_STORE, 500, "internal", "", "backup: %s", sqlite3_errmsg(dst));
        goto out;
    }
    int step;
    while ((step = sqlite3_backup_step(b, 1024)) == SQLITE_OK || step == SQLITE_BUSY ||
           step == SQLITE_LOCKED)
        if (step != SQLITE_OK)
            sqlite3_sleep(20);
    sqlite3_backup_finish(b);
    if (step != SQLITE_DONE)
        rc = problem_set(p, ERR_STORE, 500, "internal", "", "backup failed: %s",
                         sqlite3_errstr(step));
out:
    sqlite3_close(src);
    sqlite3_close(dst);
    return rc;
}

err store_backup(const char *url, const char *path, problem *p)
{
    if (is_pg(url)) {
        char *const argv[] = {"pg_dump",    "--format=custom", "--no-owner", "--file",
                              (char *)path, (char *)url,       NULL};
        return run(argv, p);
    }
    if (access(path, F_OK) == 0)
        return problem_set(p, ERR_CONFLICT, 409, "conflict", "out",
                           "%s exists; a backup never overwrites a file", path);
    return lite_copy(url, path, true, p);
}

err store_restore(const char *url, const char *path, problem *p)
{
    if (access(path, R_OK) != 0)
        return problem_set(p, ERR_NOTFOUND, 400, "invalidField", "from", "cannot read %s", path);
    if (is_pg(url)) {
        char *const argv[] = {"pg_restore", "--clean",   "--if-exists", "--no-owner",
                              "--dbname",   (char *)url, (char *)path,  NULL};
        return run(argv, p);
    }
    return lite_copy(path, url, true, p);
}

/*
 * directory.h — where each subscriber hangs, in memory: number → network attachment position
 * and area, for the hot lookups of callers (a batch of 5,000 complaint signals, an IVR call),
 * and the subscriber's card (card.h), from which the 360 view is answered. Never stale: what
 * it does not know (not built yet, changed and not read again yet) it says it does not know,
 * and the caller asks the store.
 */
#ifndef SHOUYE_DIRECTORY_H
#define SHOUYE_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct directory directory;

/*
 * An empty directory over the store at `url`; nothing is read until directory_build.
 * `cards`: keep each subscriber's card (card.h: the facts of the 360 view) as well.
 */
directory *directory_create(const char *url, bool cards);
/* Stops a build in progress and frees everything. */
void directory_free(directory *d);
/* Build (or rebuild) from the store on a background thread; lookups miss meanwhile. Ask only
   while no engine command is half applied: before engine_start, or between batches. */
void directory_build(directory *d);
/* Wait until no build is running (tests, benchmarks); true when the directory is ready. */
bool directory_wait(directory *d);

/* Lookups hold the read lock across a batch. */
void directory_lock(directory *d);
void directory_unlock(directory *d);
/*
 * Under the lock: true when the directory knows `msisdn` (then *has_pos / *pos is its
 * attachment and *area its area code, NULL for none; valid until unlock); false when the
 * store must be asked.
 */
bool directory_find(const directory *d, const char *msisdn, bool *has_pos, int64_t *pos,
                    const char **area);

/*
 * Under the lock: the card of `msisdn` into `out` (its bytes, as card_encode wrote them;
 * card_decode reads them); false when the store must be asked.
 */
typedef struct buf buf;
bool directory_card(const directory *d, const char *msisdn, buf *out);

/* The engine changed where a subscriber hangs or lives: forget it (before the commit). */
void directory_forget(directory *d, const char *msisdn);
/*
 * The engine changed something of the subscriber's (after the commit, between batches, on
 * its thread, reading from its connection `s`): read the subscriber again and keep it.
 */
typedef struct store store;
void directory_refresh(directory *d, store *s, const char *msisdn);
/* Positions were renumbered (topology import): drop everything and build again. */
void directory_reset(directory *d);

/* Does it keep cards (directory_create)? */
bool directory_has_cards(const directory *d);
/* Built and answering (lookups may still miss: then the store is asked). */
bool directory_ready(directory *d);
/* How many subscribers it knows, and its memory in bytes (metrics, benchmarks). */
size_t directory_size(directory *d, size_t *bytes);

#endif

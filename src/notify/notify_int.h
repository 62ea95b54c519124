/* notify_int.h — shared by the files of notify/ only. */
#ifndef SHOUYE_NOTIFY_INT_H
#define SHOUYE_NOTIFY_INT_H

#include "notify/notify.h"

#include <pthread.h>

typedef struct hub_ent {
    int64_t id;
    char *callback, *query, *secret;
} hub_ent;

struct notify_ctx {
    notify_config cfg;
    char *strings[8]; /* owned copies of the config strings */
    engine *eng;
    store_pool *readers;
    /* engine thread only: the hubs, reloaded after a hub write */
    hub_ent *hubs;
    int nhubs;
    bool hubs_loaded;
    /* the senders: one per channel, so a slow webhook receiver never holds up an SMS */
    struct sender {
        notify_ctx *n;
        const char *channel;
        pthread_t thread;
        bool kick;
    } senders[2];
    pthread_mutex_t lock;
    pthread_cond_t cv;
    bool started, stop;
};

void notify_hubs_changed(notify_ctx *n);
/* sender.c; arg is a struct sender */
void *notify_sender_main(void *arg);

#endif

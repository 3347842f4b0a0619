/*
 * group_int.h - helpers shared by the group handlers (find_coordinator.c, join_group.c,
 * offset_commit.c, group_admin.c); not for other callers.
 * Threads: the broker loop thread.
 */
#ifndef SL_HANDLERS_GROUP_INT_H
#define SL_HANDLERS_GROUP_INT_H

#include <string.h>

#include "../../common/sl_macros.h"
#include "../api.h"

/* A NUL-terminated arena copy of s ("" for null, NULL only when out of memory). */
static inline const char *sl__gh_str(struct sl_request *req, struct sl_kp_str s)
{
    if (s.len < 0) {
        s.p = "";
        s.len = 0;
    }
    return sl_kp_arena_strdup(&req->arena, s);
}

/* As sl__gh_str but null stays NULL. */
static inline const char *sl__gh_nstr(struct sl_request *req, struct sl_kp_str s)
{
    return s.len < 0 ? NULL : sl_kp_arena_strdup(&req->arena, s);
}

static inline struct sl_kp_str sl__gh_kstr(const char *s)
{
    struct sl_kp_str k = {s, s ? (int32_t)strlen(s) : -1};
    return k;
}

/*
 * Whether a handler's callback ran inside the call (answer with SL_API_DONE) or later
 * (complete the parked request). Lives in the request's arena, as req->handler_state.
 */
struct sl__gh_park {
    int in_call;
    int answered;
};

/* After the callback wrote req->resp: finish the request the right way. */
static inline void sl__gh_answered(struct sl_request *req)
{
    struct sl__gh_park *p = req->handler_state;
    p->answered = 1;
    if (!p->in_call) {
        req->handler_state = NULL;
        sl_request_complete(req);
    }
}

#endif

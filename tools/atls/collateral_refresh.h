/* collateral_refresh.h: `atls serve --collateral-refresh SECONDS`: keep the stapled collateral
 * directory up to date while serve runs. At start the attester produces one Evidence (before
 * any session exists, so nothing else uses it) to learn the platform's parameters
 * (fetch_params_from); a thread then runs collateral_fetch on the directory at once and every
 * SECONDS, logging what it fetched (-v) and every failure (always), so each item is replaced
 * --refresh-before its expiry. Sessions read the directory per Evidence (cli_collection.h) and
 * files are replaced by rename, so no lock is shared with them. */
#ifndef ATLS_TOOLS_COLLATERAL_REFRESH_H
#define ATLS_TOOLS_COLLATERAL_REFRESH_H

#include "collateral_fetch.h"

typedef struct collateral_refresh collateral_refresh;

/* collateral_refresh_start: |f| (copied; its URLs borrowed) for |dir| (borrowed) every
 * |interval_s| seconds; |ops|/|state| are used once, here. 0 or an exit code. */
int collateral_refresh_start(const fetch_cli *f, const char *dir, int interval_s,
                             const atls_attester_ops *ops, void *state,
                             collateral_refresh **out);

/* collateral_refresh_stop wakes the thread, waits for it and frees |r|. NULL-safe. */
void collateral_refresh_stop(collateral_refresh *r);

#endif /* ATLS_TOOLS_COLLATERAL_REFRESH_H */

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sup.c: the download manager's supervision tree (book ch. 6.0).
 *
 *   DownloadManager.Supervisor    a Supervisor, :rest_for_one
 *   ├─ HttpClient                 the curl multi handle (http.c)
 *   ├─ DownloadManager            the records (manager.c)
 *   └─ DownloadsSupervisor        a DynamicSupervisor
 *      └─ DownloadWorker ...      one per download, restart :temporary
 *
 * The book starts DownloadsSupervisor and DownloadManager by hand from
 * its notebook; here one Supervisor starts them, in the order of what
 * depends on what.  A worker needs the client (its request) and the
 * manager (its record's `from`, where terminate reports); the manager
 * needs DownloadsSupervisor only when it adds or removes.  So:
 *
 *   - start order client, manager, DownloadsSupervisor, and :rest_for_one:
 *     a client that dies takes everything after it (every worker's request
 *     was in it); a manager that dies takes the workers whose records it
 *     had, so no worker ever reports to a dead manager; a
 *     DownloadsSupervisor that dies takes its workers, the manager hears
 *     of each end (their terminate, or its monitor) and carries on.
 *   - shutdown is in reverse order: the workers first, while the manager
 *     is there to take their last {:terminating} and the client to cancel
 *     their requests.
 *
 * The book's order (DownloadsSupervisor, then DownloadManager) was
 * rejected: stopping the tree would stop the manager before the workers,
 * whose last reports would go nowhere.
 *
 * DownloadsSupervisor.add and remove are dl_downloads_add and
 * dl_downloads_remove, the only two places that start and stop workers.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "download.h"
#include "http.h"

#define A(name) COTP_ATOM(name)

/* --- DownloadsSupervisor --- */

int dl_downloads_add(cotp_term arg, cotp_pid *pid) {
  cotp_child_spec spec = cotp_genserver_child_spec(A(Elixir.DownloadWorker),
                                                   &dl_worker_callbacks, arg, COTP_ATOM_NIL);
  spec.restart = COTP_TEMPORARY;
  return cotp_dynamic_supervisor_start_child(cotp_server_name(DL_DOWNLOADS_SUP), &spec, pid,
                                             NULL);
}

int dl_downloads_remove(cotp_pid pid) {
  return cotp_dynamic_supervisor_terminate_child(cotp_server_name(DL_DOWNLOADS_SUP), pid);
}

/* --- the children's start functions (run inside the top supervisor) --- */

static cotp_term started(int rc, cotp_pid pid, cotp_term reason) {
  cotp_heap *h = cotp_self_heap();
  if (rc == 0)
    return COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid));
  if (rc > 0 && !cotp_is_none(reason))
    return COTP_TUPLE(h, COTP_ATOM_ERROR, reason);
  return COTP_TUPLE(h, COTP_ATOM_ERROR, cotp_atom(cotp_err_name(rc)));
}

static cotp_term start_client(cotp_term args, void *ctx) {
  (void)args;
  (void)ctx;
  cotp_pid pid;
  int rc = dl_http_start_link(&pid);
  return started(rc, pid, rc > 0 ? A(http_client_failed) : COTP_NONE);
}

/* args [dir, refresh_ms, idle_timeout_ms, connect_timeout_ms] */
static cotp_term start_manager(cotp_term args, void *ctx) {
  (void)ctx;
  cotp_term v[4];
  for (int i = 0; i < 4; i++, args = cotp_tail(args))
    v[i] = cotp_head(args);
  size_t len;
  const uint8_t *dir = cotp_binary_data(v[0], &len);
  /* the folder's name as a C string in the supervisor's heap, not
   * malloc'ed: the supervisor may be killed while it waits for the
   * manager's init (a killed process leaks nothing) */
  uint8_t *d = NULL;
  if (dir && cotp_is_none(cotp_binary_alloc(cotp_self_heap(), len + 1, &d)))
    return started(COTP_ENOMEM, (cotp_pid){0}, COTP_NONE);
  if (d) {
    memcpy(d, dir, len);
    d[len] = '\0';
  }
  dl_manager_opts o = DL_MANAGER_OPTS_INIT;
  o.dir = (const char *)d;
  o.refresh_ms = cotp_int_value(v[1]);
  o.worker.idle_timeout_ms = cotp_int_value(v[2]);
  o.worker.connect_timeout_ms = cotp_int_value(v[3]);
  cotp_pid pid;
  int rc = dl_manager_start_link(&o, &pid);
  return started(rc, pid, rc > 0 ? A(manager_failed) : COTP_NONE);
}

static cotp_term start_downloads_sup(cotp_term args, void *ctx) {
  (void)args;
  (void)ctx;
  cotp_dynamic_supervisor_opts o = COTP_DYNAMIC_SUPERVISOR_OPTS_INIT;
  o.name = cotp_name_local(DL_DOWNLOADS_SUP);
  cotp_pid pid;
  cotp_term reason = COTP_NONE;
  int rc = cotp_dynamic_supervisor_start_link(&o, &pid, &reason);
  return started(rc, pid, reason);
}

/* --- the tree --- */

int dl_start_link(const dl_manager_opts *opts, cotp_pid *pid) {
  cotp_heap *h = cotp_self_heap();
  if (!h)
    return COTP_ENOTPROC;
  dl_manager_opts o = DL_MANAGER_OPTS_INIT;
  if (opts)
    o = *opts;
  cotp_child_spec specs[3] = {COTP_CHILD_SPEC_INIT, COTP_CHILD_SPEC_INIT,
                              COTP_CHILD_SPEC_INIT};
  specs[0].id = DL_HTTP_CLIENT;
  specs[0].start = start_client;
  specs[0].modules = COTP_LIST(h, DL_HTTP_CLIENT);
  specs[1].id = DL_MANAGER;
  specs[1].start = start_manager;
  specs[1].args = COTP_LIST(h, o.dir ? cotp_string(h, o.dir) : COTP_ATOM_NIL,
                            cotp_int(h, o.refresh_ms), cotp_int(h, o.worker.idle_timeout_ms),
                            cotp_int(h, o.worker.connect_timeout_ms));
  specs[1].modules = COTP_LIST(h, DL_MANAGER);
  specs[2].id = DL_DOWNLOADS_SUP;
  specs[2].start = start_downloads_sup;
  specs[2].type = COTP_SUPERVISOR;
  specs[2].modules = COTP_LIST(h, A(Elixir.DynamicSupervisor));
  cotp_supervisor_flags f = COTP_SUPERVISOR_FLAGS_INIT;
  f.strategy = COTP_REST_FOR_ONE;
  cotp_supervisor_opts so = COTP_SUPERVISOR_OPTS_INIT;
  so.name = cotp_name_local(DL_SUPERVISOR);
  return cotp_supervisor_start_link_children(specs, 3, &f, &so, pid, NULL);
}

int dl_stop(void) {
  return cotp_supervisor_stop(cotp_server_name(DL_SUPERVISOR), COTP_ATOM_NORMAL,
                              COTP_INFINITY);
}

/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book ch. 7.4, supervised tasks, and the Task.Supervisor examples of
 * seeds 002/003: an AwesomeTaskSupervisor under a Supervisor; async (linked
 * to the caller and monitored: the reply and the DOWN arrive); the same
 * through a PartitionSupervisor of Task.Supervisors (ScalableTaskSupervisor,
 * routing key :my_routing_key); start_child with restart: :transient of a
 * task that raises (restarted until the intensity runs out); async_nolink
 * (linked to the supervisor only, awaited all the same); and MyDownloader,
 * a GenServer that downloads with async_nolink and gets the replies and
 * DOWNs in handle_info.  Downloads are simulated: a URL with "invalid" in
 * it raises, as HTTPoison.get! does for a host that does not resolve.
 */
#include "sup_example.h"

static cotp_term hello(void *arg) {
  (void)arg;
  cotp_sleep(200);
  puts("Hello from a supervised task!");
  fflush(stdout);
  return COTP_ATOM(returned_from_task);
}

static cotp_term crashing(void *arg) {
  (void)arg;
  /* the task runs while start_child returns: let the caller's line come
   * first, as in the book's output, even on a slow (sanitized) run */
  cotp_sleep(50);
  puts("A task was started!");
  fflush(stdout);
  cotp_exit(runtime_error("boom"));
}

static cotp_term one_plus_two(void *arg) {
  (void)arg;
  cotp_sleep(300);
  return cotp_int(cotp_self_heap(), 1 + 2);
}

static void links_of(const char *label, cotp_pid pid) {
  cotp_term l;
  cotp_process_info(pid, COTP_ATOM(links), &l);
  show(label, COTP_TUPLE(cotp_self_heap(), COTP_ATOM(links), l));
}

/* --- MyDownloader --- */

static const char *const urls[] = {
    "https://api.chucknorris.io/jokes/random",
    "https://file-examples.com/storage/fede3f30f864a1f979d2bf0/2017/10/file_example_JPG_100kB.jpg",
    "https://invalid-file-download.invalid"};

static cotp_term download(void *arg) {
  const char *url = arg;
  cotp_heap *h = cotp_self_heap();
  if (strstr(url, "invalid"))
    cotp_exit(cotp_format(h, "{%{__struct__: HTTPoison.Error, __exception__: true, "
                             "id: nil, reason: :nxdomain}, []}"));
  /* the joke comes back first, well after the failure even on a loaded
   * sanitizer run (20 ms was not always enough there) */
  cotp_sleep(strstr(url, "jokes") ? 100 : 200);
  return cotp_format(h, "%{__struct__: HTTPoison.Response, status_code: 200, body: ~s}",
                     strstr(url, "jokes") ? "{\"value\": \"a joke\"}" : "<100 kB of JPEG>");
}

struct downloader {
  cotp_term refs[8]; /* the MapSet of task refs, in a heap of its own */
  int n;
  cotp_heap *heap;
};

static cotp_gs_ret dl_init(cotp_term arg, void **state) {
  (void)arg;
  struct downloader *d = calloc(1, sizeof *d);
  d->heap = cotp_heap_new();
  *state = d;
  return cotp_gs_ok();
}

static cotp_gs_ret dl_call(cotp_term req, cotp_genserver_from from, void **state) {
  (void)from;
  struct downloader *d = *state;
  int i = (int)cotp_int_value(cotp_tuple_get(req, 1)); /* {:start_download, url} */
  cotp_task t;
  cotp_task_supervisor_async_nolink(cotp_server_name(COTP_ATOM(AwesomeTaskSupervisor)),
                                    download, (void *)urls[i], NULL, &t);
  d->refs[d->n++] = cotp_term_copy(d->heap, t.ref);
  return cotp_gs_reply(COTP_ATOM_OK);
}

static bool forget(struct downloader *d, cotp_term ref) {
  for (int i = 0; i < d->n; i++)
    if (cotp_term_eq(d->refs[i], ref)) {
      d->refs[i] = d->refs[--d->n];
      return true;
    }
  return false;
}

static cotp_gs_ret dl_info(cotp_term msg, void **state) {
  struct downloader *d = *state;
  char label[128];
  if (cotp_tuple_size(msg) == 2 && forget(d, cotp_tuple_get(msg, 0))) {
    /* the task completed: drop its DOWN */
    cotp_term ref = cotp_tuple_get(msg, 0);
    cotp_demonitor(ref, COTP_DEMONITOR_FLUSH);
    snprintf(label, sizeof label, "Task %s completed with result", "#Reference<...>");
    show(label, cotp_map_get(cotp_tuple_get(msg, 1), COTP_ATOM(body)));
  } else if (cotp_tuple_size(msg) == 5 && cotp_tuple_get(msg, 0).w == COTP_ATOM(DOWN).w &&
             forget(d, cotp_tuple_get(msg, 1))) {
    snprintf(label, sizeof label, "Task %s failed with reason", "#Reference<...>");
    show(label, cotp_tuple_get(cotp_tuple_get(msg, 4), 0)); /* elem(reason, 0) */
  }
  return cotp_gs_noreply();
}

static void dl_free(void *state) {
  struct downloader *d = state;
  cotp_heap_free(d->heap);
  free(d);
}

static const cotp_genserver_callbacks dl_cb = {.name = "MyDownloader",
                                              .init = dl_init,
                                              .handle_call = dl_call,
                                              .handle_info = dl_info,
                                              .free_state = dl_free};

/* --- the chapter --- */

static void root(void *arg) {
  (void)arg;
  cotp_heap *h = cotp_self_heap();
  cotp_term name = COTP_ATOM(AwesomeTaskSupervisor);
  cotp_server awesome = cotp_server_name(name);
  cotp_child_spec child = cotp_task_supervisor_child_spec(cotp_format(h, "Task.Supervisor"), name);
  cotp_pid top;
  cotp_supervisor_start_link_children(&child, 1, NULL, NULL, &top, NULL);

  puts("# Task.Supervisor.async");
  cotp_task task;
  cotp_task_supervisor_async(awesome, hello, NULL, NULL, &task);
  show("TASK", cotp_task_term(h, &task));
  links_of("Parent process #PID<...> links", cotp_self());
  cotp_sleep(300);
  cotp_term msgs;
  cotp_process_info(cotp_self(), COTP_ATOM(messages), &msgs);
  show(NULL, COTP_TUPLE(h, COTP_ATOM(messages), msgs));
  cotp_demonitor(task.ref, COTP_DEMONITOR_FLUSH);
  cotp_term m;
  while (cotp_receive(0, &m) == 0)
    ;

  puts("# through a PartitionSupervisor of Task.Supervisors");
  cotp_partition_supervisor_opts p = COTP_PARTITION_SUPERVISOR_OPTS_INIT;
  p.name = COTP_ATOM(ScalableTaskSupervisor);
  p.child = cotp_task_supervisor_child_spec(cotp_format(h, "Task.Supervisor"), COTP_ATOM_NIL);
  cotp_pid psup;
  cotp_partition_supervisor_start_link(&p, &psup, NULL, NULL);
  cotp_server scalable = cotp_server_via(
      &cotp_partition_supervisor_via,
      COTP_TUPLE(h, COTP_ATOM(ScalableTaskSupervisor), COTP_ATOM(my_routing_key)));
  cotp_task_supervisor_async(scalable, hello, NULL, NULL, &task);
  show("Task.await", cotp_task_await(&task, 5000));
  cotp_child_counts c;
  cotp_supervisor_count_children(cotp_server_pid(psup), &c);
  show("Task supervisors under ScalableTaskSupervisor", cotp_int(h, (int64_t)c.active));

  puts("# Task.Supervisor.start_child(..., restart: :transient)");
  cotp_task_child_opts o = COTP_TASK_CHILD_OPTS_INIT;
  o.restart = COTP_TRANSIENT;
  cotp_pid pid;
  cotp_pid before = {0};
  cotp_whereis(name, &before);
  int rc = cotp_task_supervisor_start_child(awesome, crashing, NULL, &o, &pid);
  show("Returned from call to start_child",
       rc == 0 ? COTP_TUPLE(h, COTP_ATOM_OK, cotp_pid_term(pid)) : cotp_int(h, rc));
  /* three restarts, then the intensity runs out: the Task.Supervisor
   * exits and the top supervisor restarts it under the same name */
  cotp_pid again = {0};
  for (int i = 0; i < 500; i++) {
    if (cotp_whereis(name, &again) == 0 && again.bits && again.bits != before.bits)
      break;
    again.bits = 0;
    cotp_sleep(10);
  }
  printf("AwesomeTaskSupervisor restarted by its supervisor: %s\n",
         again.bits ? "true" : "false");

  puts("# Task.Supervisor.async_nolink");
  cotp_task unlinked;
  cotp_task_supervisor_async_nolink(awesome, one_plus_two, NULL, NULL, &unlinked);
  show("Unliked Task", cotp_task_term(h, &unlinked));
  links_of("Parent process #PID<...> links", cotp_self());
  cotp_pid sup_pid;
  cotp_whereis(name, &sup_pid);
  links_of("AwesomeTaskSupervisor process #PID<...> links", sup_pid);
  show("AwesomeTaskSupervisor Children", cotp_task_supervisor_children(awesome));
  show("Result from task", cotp_task_await(&unlinked, 5000));

  puts("# MyDownloader");
  cotp_genserver_opts go = COTP_GENSERVER_OPTS_INIT;
  go.name = cotp_name_local(cotp_format(h, "MyDownloader"));
  cotp_genserver_start_link(&dl_cb, COTP_ATOM(noop), &go, NULL, NULL);
  cotp_server dl = cotp_server_name(cotp_format(h, "MyDownloader"));
  for (int i = 0; i < 3; i++)
    cotp_genserver_call(dl, COTP_TUPLE(h, COTP_ATOM(start_download), cotp_int(h, i)), 5000);
  cotp_sleep(600); /* the last download takes 200 ms */
}

int main(void) {
  cotp_config cfg = COTP_CONFIG_INIT;
  cfg.schedulers = 2;
  return cotp_run(root, NULL, &cfg, NULL, NULL) == 0 ? 0 : 1;
}

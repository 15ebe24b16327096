/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Book chapter 7.2: the Task.ignore time bomb.  A linked task that will
 * crash in two seconds would take its owner with it; Task.ignore unlinks
 * it, so the owner lives on while the bomb goes off.
 *
 *   time_bomb_task =
 *     Task.async(fn -> :timer.sleep(2000); raise "BOOOOM!" end)
 *   Task.ignore(time_bomb_task)
 *   :timer.sleep(2100)
 *   IO.puts("Parent process survived!")
 *
 *   time_bomb [unit_ms]
 */
#include "example.h"

static cotp_term bomb(void *arg) {
  (void)arg;
  cotp_sleep(secs(2));
  /* raise "BOOOOM!": a C task fails by exiting, with what raise gives */
  cotp_exit(cotp_format(cotp_self_heap(),
                        "{%{__struct__: RuntimeError, __exception__: true, message: \"BOOOOM!\"}, []}"));
}

static void show_links(void) {
  cotp_term links;
  cotp_process_info(cotp_self(), COTP_ATOM(links), &links);
  printf("Parent process links: ");
  inspect(links);
}

static void root(void *arg) {
  (void)arg;
  cotp_set_log_level(COTP_LOG_ERROR + 1); /* the bomb's crash report */
  cotp_task time_bomb_task;
  cotp_task_async(bomb, NULL, &time_bomb_task);
  printf("time_bomb_task: ");
  inspect(cotp_task_term(cotp_self_heap(), &time_bomb_task));
  show_links();
  printf("Task.ignore(time_bomb_task)\n");
  inspect(cotp_task_ignore(&time_bomb_task));
  show_links();
  /* watch the bomb, to show it really went off */
  cotp_term ref, reason;
  cotp_monitor(time_bomb_task.pid, &ref);
  cotp_sleep(secs(2.1));
  cotp_clause down = {cotp_pattern_cached("{:DOWN, ^ref, _, _, reason}", NULL), &ref, &reason};
  cotp_receive_match(&down, 1, COTP_INFINITY, 0, NULL);
  printf("the bomb went off: ");
  inspect(reason);
  puts("Parent process survived!");
}

int main(int argc, char **argv) {
  read_unit(argc, argv);
  return run(root);
}

/* SPDX-License-Identifier: Apache-2.0 */
/* The supervisor examples (book ch. 5) print what the chapters show. */
#include <stdio.h>
#include <string.h>

#include "harness.h"
#include "run_example.h"

static const char *run(const char *cmdline) { return example_run("", cmdline); }

Test(examples, seed004_ch5_1_stack_under_a_supervisor) {
  const char *got = run("stack_sup");
  const char *want = "Stack GenServer starting up!\n"
                     "Supervisor's children: [{:stack_1, #PID<...>, :worker, [Stack]}]\n"
                     "Stack Genserver Process pid: #PID<...>\n"
                     "Intial Genserver state: [0]\n"
                     "Pushed 10\n"
                     "Pushed 20\n"
                     "Popped 20\n"
                     "Popped 10\n"
                     "Popped 0\n"
                     "Genserver state just before crash: []\n"
                     "Stack GenServer starting up!\n"
                     "Restarted stack Genserver Process pid: #PID<...> (a new process)\n"
                     "Genserver state after crash: [0]\n";
  example_expect_output("stack_sup", got, want);
}

Test(examples, seed004_ch5_2_crash_dummy_supervisor_under_each_strategy) {
  const char *got = run("crash_dummy_sup");
  const char *want =
                     "# strategy :one_for_one\n"
                     "\"dummy1 starting up!\"\n"
                     "\"dummy2 starting up!\"\n"
                     "\"dummy3 starting up!\"\n"
                     "Supervisors links: {:links, [#PID<...>, #PID<...>, #PID<...>, #PID<...>]}\n"
                     "Supervisors Children: [{:dummy3, #PID<...>, :worker, [CrashDummyServer]}, {:dummy2, #PID<...>, :worker, [CrashDummyServer]}, {:dummy1, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "Dummy 1 state: 1\n"
                     "Dummy 2 state: 2\n"
                     "Dummy 3 state: 3\n"
                     "\"dummy2 starting up!\"\n"
                     "Supervisors Children: [{:dummy3, #PID<...>, :worker, [CrashDummyServer]}, {:dummy2, #PID<...>, :worker, [CrashDummyServer]}, {:dummy1, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "Dummy 1 state: 1\n"
                     "Dummy 2 state: 4\n"
                     "Dummy 3 state: 3\n"
                     "Restarted: :dummy2\n"
                     "# strategy :one_for_all\n"
                     "\"dummy1 starting up!\"\n"
                     "\"dummy2 starting up!\"\n"
                     "\"dummy3 starting up!\"\n"
                     "Supervisors links: {:links, [#PID<...>, #PID<...>, #PID<...>, #PID<...>]}\n"
                     "Supervisors Children: [{:dummy3, #PID<...>, :worker, [CrashDummyServer]}, {:dummy2, #PID<...>, :worker, [CrashDummyServer]}, {:dummy1, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "Dummy 1 state: 5\n"
                     "Dummy 2 state: 6\n"
                     "Dummy 3 state: 7\n"
                     "\"dummy1 starting up!\"\n"
                     "\"dummy2 starting up!\"\n"
                     "\"dummy3 starting up!\"\n"
                     "Supervisors Children: [{:dummy3, #PID<...>, :worker, [CrashDummyServer]}, {:dummy2, #PID<...>, :worker, [CrashDummyServer]}, {:dummy1, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "Dummy 1 state: 8\n"
                     "Dummy 2 state: 9\n"
                     "Dummy 3 state: 10\n"
                     "Restarted: :dummy1 :dummy2 :dummy3\n"
                     "# strategy :rest_for_one\n"
                     "\"dummy1 starting up!\"\n"
                     "\"dummy2 starting up!\"\n"
                     "\"dummy3 starting up!\"\n"
                     "Supervisors links: {:links, [#PID<...>, #PID<...>, #PID<...>, #PID<...>]}\n"
                     "Supervisors Children: [{:dummy3, #PID<...>, :worker, [CrashDummyServer]}, {:dummy2, #PID<...>, :worker, [CrashDummyServer]}, {:dummy1, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "Dummy 1 state: 11\n"
                     "Dummy 2 state: 12\n"
                     "Dummy 3 state: 13\n"
                     "\"dummy2 starting up!\"\n"
                     "\"dummy3 starting up!\"\n"
                     "Supervisors Children: [{:dummy3, #PID<...>, :worker, [CrashDummyServer]}, {:dummy2, #PID<...>, :worker, [CrashDummyServer]}, {:dummy1, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "Dummy 1 state: 11\n"
                     "Dummy 2 state: 14\n"
                     "Dummy 3 state: 15\n"
                     "Restarted: :dummy2 :dummy3\n";
  example_expect_output("crash_dummy_sup", got, want);
}

Test(examples, seed004_ch5_3_the_three_restart_types) {
  const char *got = run("restart_types");
  const char *want =
                     "## :permanent\n"
                     "\"permanent_dummy starting up!\"\n"
                     "\"temporary_dummy starting up!\"\n"
                     "\"transient_dummy starting up!\"\n"
                     "Supervisors Children: [{:transient_dummy, #PID<...>, :worker, [CrashDummyServer]}, {:temporary_dummy, #PID<...>, :worker, [CrashDummyServer]}, {:permanent_dummy, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "# GenServer.cast(:permanent_dummy, :stop_gracefully)\n"
                     "\"permanent_dummy starting up!\"\n"
                     "# GenServer.cast(:permanent_dummy, :crash)\n"
                     "\"permanent_dummy starting up!\"\n"
                     "## :temporary\n"
                     "# GenServer.cast(:temporary_dummy, :stop_gracefully)\n"
                     "Supervisors Children: [{:transient_dummy, #PID<...>, :worker, [CrashDummyServer]}, {:permanent_dummy, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "# Supervisor.stop(supervisor_pid); CrashDummySupervisor.start_link()\n"
                     "\"permanent_dummy starting up!\"\n"
                     "\"temporary_dummy starting up!\"\n"
                     "\"transient_dummy starting up!\"\n"
                     "# GenServer.cast(:temporary_dummy, :crash)\n"
                     "Supervisors Children: [{:transient_dummy, #PID<...>, :worker, [CrashDummyServer]}, {:permanent_dummy, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "## :transient\n"
                     "# Supervisor.stop(supervisor_pid); CrashDummySupervisor.start_link()\n"
                     "\"permanent_dummy starting up!\"\n"
                     "\"temporary_dummy starting up!\"\n"
                     "\"transient_dummy starting up!\"\n"
                     "Supervisors Children: [{:transient_dummy, #PID<...>, :worker, [CrashDummyServer]}, {:temporary_dummy, #PID<...>, :worker, [CrashDummyServer]}, {:permanent_dummy, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "# GenServer.cast(:transient_dummy, :stop_gracefully)\n"
                     "Supervisors Children: [{:transient_dummy, :undefined, :worker, [CrashDummyServer]}, {:temporary_dummy, #PID<...>, :worker, [CrashDummyServer]}, {:permanent_dummy, #PID<...>, :worker, [CrashDummyServer]}]\n"
                     "# Supervisor.stop(supervisor_pid); CrashDummySupervisor.start_link()\n"
                     "\"permanent_dummy starting up!\"\n"
                     "\"temporary_dummy starting up!\"\n"
                     "\"transient_dummy starting up!\"\n"
                     "# GenServer.cast(:transient_dummy, :crash)\n"
                     "\"transient_dummy starting up!\"\n"
                     "Supervisors Children: [{:transient_dummy, #PID<...>, :worker, [CrashDummyServer]}, {:temporary_dummy, #PID<...>, :worker, [CrashDummyServer]}, {:permanent_dummy, #PID<...>, :worker, [CrashDummyServer]}]\n";
  example_expect_output("restart_types", got, want);
}

Test(examples, seed004_ch5_4_dynamic_supervisor_max_children_extra_arguments) {
  const char *got = run("dynamic_sup");
  const char *want =
                     "{:ok, echo_1}: {:ok, #PID<...>}\n"
                     "{:ok, echo_2}: {:ok, #PID<...>}\n"
                     "GenServer.call(:echo1, {:echo, :hi}): :hi\n"
                     "count_children: %{active: 2, specs: 2, supervisors: 0, workers: 2}\n"
                     "which_children: [{:undefined, #PID<...>, :worker, [TestServer]}, {:undefined, #PID<...>, :worker, [TestServer]}]\n"
                     "terminate_child(echo_2): :ok\n"
                     "count_children: %{active: 1, specs: 1, supervisors: 0, workers: 1}\n"
                     "which_children: [{:undefined, #PID<...>, :worker, [TestServer]}]\n"
                     "# module based\n"
                     "DynamicSupervisor initialized with: {:ok, %{extra_arguments: [\"Elixir is ❤\"], intensity: 3, max_children: 2, period: 5, strategy: :one_for_one}}\n"
                     "\"New TestServerV2 started with extra_arg = \\\"Elixir is ❤\\\" and arg = :yolo\"\n"
                     "{:ok, echo_1}: {:ok, #PID<...>}\n"
                     "\"New TestServerV2 started with extra_arg = \\\"Elixir is ❤\\\" and arg = :awesome_elixir\"\n"
                     "{:ok, echo_2}: {:ok, #PID<...>}\n"
                     "count_children: %{active: 2, specs: 2, supervisors: 0, workers: 2}\n"
                     "which_children: [{:undefined, #PID<...>, :worker, [TestServerV2]}, {:undefined, #PID<...>, :worker, [TestServerV2]}]\n"
                     "start_child({TestServerV2, :echo3}): {:error, :max_children}\n"
                     "terminate_child(echo_1): :ok\n"
                     "count_children: %{active: 1, specs: 1, supervisors: 0, workers: 1}\n"
                     "which_children: [{:undefined, #PID<...>, :worker, [TestServerV2]}]\n";
  example_expect_output("dynamic_sup", got, want);
}

Test(examples, seed004_ch5_5_echo_server_under_a_partition_supervisor) {
  const char *got = run("echo_partition");
  const char *want =
                     "\"EchoServer #PID<...> started with args: :test_arg\"\n"
                     "\"EchoServer #PID<...> started with args: :test_arg\"\n"
                     "System.schedulers_online(): 2\n"
                     "which_children: [{1, #PID<...>, :worker, [EchoServer]}, {0, #PID<...>, :worker, [EchoServer]}]\n"
                     "# partitions: 3, with_arguments\n"
                     "\"EchoServer #PID<...> started on partition 0 with args: :test_arg\"\n"
                     "\"EchoServer #PID<...> started on partition 1 with args: :test_arg\"\n"
                     "\"EchoServer #PID<...> started on partition 2 with args: :test_arg\"\n"
                     "which_children: [{2, #PID<...>, :worker, [EchoServerV2]}, {1, #PID<...>, :worker, [EchoServerV2]}, {0, #PID<...>, :worker, [EchoServerV2]}]\n"
                     "\"EchoServer(#PID<...>)(partition=0) echoing: :hi\"\n"
                     ":hi\n"
                     "\"EchoServer(#PID<...>)(partition=1) echoing: :ola\"\n"
                     ":ola\n"
                     "\"EchoServer(#PID<...>)(partition=2) echoing: :adios\"\n"
                     ":adios\n"
                     "\"EchoServer(#PID<...>)(partition=1) echoing: :boom\"\n"
                     ":boom\n"
                     "Partition: 0\n"
                     "\"EchoServer(#PID<...>)(partition=0) echoing: :hello_world\"\n"
                     ":hello_world\n"
                     "GenServer.whereis(\"1000\"): #PID<...>\n"
                     "the same as partition 0's: true\n";
  example_expect_output("echo_partition", got, want);
}

Test(examples, seed004_ch5_6_partitioned_dynamic_supervisors_start_side_by_side) {
  const char *got = run("slow_partition 100");
  const char *want =
                     "# five starts through one DynamicSupervisor\n"
                     "\"Started new SlowGenServer #PID<...>\"\n"
                     "\"Started new SlowGenServer #PID<...>\"\n"
                     "\"Started new SlowGenServer #PID<...>\"\n"
                     "\"Started new SlowGenServer #PID<...>\"\n"
                     "\"Started new SlowGenServer #PID<...>\"\n"
                     "count_children: %{active: 5, specs: 5, supervisors: 0, workers: 5}\n"
                     "# five starts through a PartitionSupervisor of 6 DynamicSupervisors\n"
                     "\"Started new SlowGenServer #PID<...>\"\n"
                     "\"Started new SlowGenServer #PID<...>\"\n"
                     "\"Started new SlowGenServer #PID<...>\"\n"
                     "\"Started new SlowGenServer #PID<...>\"\n"
                     "\"Started new SlowGenServer #PID<...>\"\n"
                     "partitions with a SlowGenServer: 5\n";
  /* The last line says how long each way took: about 5 and about 1 of the
   * 100 ms "seconds".  A loaded machine under a sanitizer can add half a
   * unit to either, so the test checks what the chapter teaches, one start
   * after the other against side by side, not the rounding. */
  const char *timing = strstr(got, "one DynamicSupervisor: ");
  cr_assert_not_null(timing, "no timing line in:\n%s", got);
  char head[4096];
  snprintf(head, sizeof head, "%.*s", (int)(timing - got), got);
  example_expect_output("slow_partition 100", head, want);
  int one = 0, partitioned = 0;
  cr_assert_eq(sscanf(timing, "one DynamicSupervisor: about %d s; partitioned: about %d s",
                      &one, &partitioned), 2, "timing line: %s", timing);
  cr_assert(one >= 5 && partitioned <= 3, "five starts should take about 5 units one after "
            "the other and about 1 side by side: %s", timing);
}

Test(examples, seed004_ch7_4_and_seeds_002_003_supervised_tasks) {
  const char *got = run("supervised_tasks");
  const char *want =
                     "# Task.Supervisor.async\n"
                     "TASK: %{__struct__: Task, mfa: {:erlang, :apply, 2}, owner: #PID<...>, pid: #PID<...>, ref: #Reference<...>}\n"
                     "Parent process #PID<...> links: {:links, [#PID<...>, #PID<...>]}\n"
                     "Hello from a supervised task!\n"
                     "{:messages, [{#Reference<...>, :returned_from_task}, {:DOWN, #Reference<...>, :process, #PID<...>, :normal}]}\n"
                     "# through a PartitionSupervisor of Task.Supervisors\n"
                     "Hello from a supervised task!\n"
                     "Task.await: :returned_from_task\n"
                     "Task supervisors under ScalableTaskSupervisor: 2\n"
                     "# Task.Supervisor.start_child(..., restart: :transient)\n"
                     "Returned from call to start_child: {:ok, #PID<...>}\n"
                     "A task was started!\n"
                     "A task was started!\n"
                     "A task was started!\n"
                     "A task was started!\n"
                     "AwesomeTaskSupervisor restarted by its supervisor: true\n"
                     "# Task.Supervisor.async_nolink\n"
                     "Unliked Task: %{__struct__: Task, mfa: {:erlang, :apply, 2}, owner: #PID<...>, pid: #PID<...>, ref: #Reference<...>}\n"
                     "Parent process #PID<...> links: {:links, [#PID<...>, #PID<...>]}\n"
                     "AwesomeTaskSupervisor process #PID<...> links: {:links, [#PID<...>, #PID<...>]}\n"
                     "AwesomeTaskSupervisor Children: [#PID<...>]\n"
                     "Result from task: 3\n"
                     "# MyDownloader\n"
                     "Task #Reference<...> failed with reason: %{__exception__: true, __struct__: HTTPoison.Error, id: nil, reason: :nxdomain}\n"
                     "Task #Reference<...> completed with result: \"{\\\"value\\\": \\\"a joke\\\"}\"\n"
                     "Task #Reference<...> completed with result: \"<100 kB of JPEG>\"\n";
  example_expect_output("supervised_tasks", got, want);
}

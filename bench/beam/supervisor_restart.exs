# A named child's crash until its successor is up (twin of
# bench/supervisor_restart.c): a one_for_one Supervisor (1,000,000
# restarts in 1 s) of a permanent GenServer registered as :crashy, whose
# init sends {:up, self()} to the bench process; cast :boom (the child
# exits with :boom) and wait for the successor's :up, M times.
defmodule Crashy do
  use GenServer
  def start_link(root), do: GenServer.start_link(__MODULE__, root, name: :crashy)
  def init(root), do: (send(root, {:up, self()}); {:ok, nil})
  def handle_cast(:boom, _), do: exit(:boom)
end

defmodule SupervisorRestart do
  def wait_up, do: (receive do {:up, p} -> p end)

  def loop(0, p), do: p
  def loop(k, p) do
    GenServer.cast(p, :boom)
    case wait_up() do
      ^p -> raise "the same child came up twice"
      q -> loop(k - 1, q)
    end
  end

  def main do
    m = String.to_integer(System.get_env("M", "20000"))
    Logger.configure(level: :none)
    :logger.set_primary_config(:level, :none)
    {:ok, sup} = Supervisor.start_link([{Crashy, self()}], strategy: :one_for_one,
                                        max_restarts: 1_000_000, max_seconds: 1)
    first = wait_up()
    {us, last} = :timer.tc(fn -> loop(m, first) end)
    ^last = Process.whereis(:crashy)
    IO.puts("supervisor_restart restarts=#{m} ns_per_restart=#{div(us * 1000, m)}")
    Supervisor.stop(sup)
  end
end
SupervisorRestart.main()

# Agent.get + Agent.update on a counter agent, M times
defmodule AgentBench do
  def loop(_a, 0), do: :ok
  def loop(a, k) do
    Agent.get(a, fn n -> n end)
    Agent.update(a, fn n -> n + 1 end)
    loop(a, k - 1)
  end
  def main do
    m = String.to_integer(System.get_env("M", "1000000"))
    {:ok, a} = Agent.start_link(fn -> 0 end)
    {us, _} = :timer.tc(fn -> loop(a, m) end)
    ^m = Agent.get(a, fn n -> n end)
    IO.puts("agent ops=#{m} ms=#{div(us,1000)} ns_per_op=#{div(us*1000, m)}")
  end
end
AgentBench.main()

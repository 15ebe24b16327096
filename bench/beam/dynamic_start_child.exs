# DynamicSupervisor.start_child of N children, one after the other (twin
# of bench/dynamic_start_child.c): each child is {Worker, i}, an unnamed
# GenServer whose init keeps i; then count_children must say N active.
# Then DynamicSupervisor.stop, timed too (it shuts the N children down
# concurrently); the last line carries both figures, per child.
defmodule Worker do
  use GenServer
  def start_link(i), do: GenServer.start_link(__MODULE__, i)
  def init(i), do: {:ok, i}
end

defmodule DynamicStartChild do
  def loop(_sup, n, n), do: :ok
  def loop(sup, i, n) do
    {:ok, _} = DynamicSupervisor.start_child(sup, {Worker, i})
    loop(sup, i + 1, n)
  end

  def main do
    n = String.to_integer(System.get_env("N", "100000"))
    {:ok, sup} = DynamicSupervisor.start_link(strategy: :one_for_one)
    {us, _} = :timer.tc(fn -> loop(sup, 0, n) end)
    %{active: ^n} = DynamicSupervisor.count_children(sup)
    {us_stop, _} = :timer.tc(fn -> DynamicSupervisor.stop(sup) end)
    IO.puts("dynamic_start_child children=#{n} ns_per_child=#{div(us * 1000, n)} " <>
              "stop_ns_per_child=#{div(us_stop * 1000, n)}")
  end
end
DynamicStartChild.main()

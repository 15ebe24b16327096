# Registry.lookup, then register + unregister, from 2 processes at once
# (twin of bench/registry.c): a unique registry with 2 partitions holds K
# keys; each process does M lookups, then M / 4 register+unregister pairs
# of a key of its own (holding one more key throughout).
defmodule RegistryBench do
  def lookups(_k, 0, found), do: found
  def lookups(k, n, found) do
    found = case Registry.lookup(BenchRegistry, rem(n, k)) do
      [_] -> found + 1
      [] -> found
    end
    lookups(k, n - 1, found)
  end

  def churn(_key, 0), do: :ok
  def churn(key, n) do
    {:ok, _} = Registry.register(BenchRegistry, key, :ok)
    :ok = Registry.unregister(BenchRegistry, key)
    churn(key, n - 1)
  end

  def phase(fun) do
    me = self()
    {us, _} = :timer.tc(fn ->
      for id <- 0..1, do: spawn(fn -> fun.(id); send(me, :done) end)
      for _ <- 0..1, do: (receive do :done -> :ok end)
    end)
    us
  end

  def main do
    m = String.to_integer(System.get_env("M", "1000000"))
    k = String.to_integer(System.get_env("K", "1000"))
    {:ok, _} = Registry.start_link(keys: :unique, name: BenchRegistry, partitions: 2)
    for i <- 0..(k - 1), do: {:ok, _} = Registry.register(BenchRegistry, i, nil)
    us = phase(fn _id -> ^m = lookups(k, m, 0) end)
    IO.puts("registry_lookup ns_per_lookup=#{div(us * 1000, m)}")
    r = div(m, 4)
    us = phase(fn id ->
      {:ok, _} = Registry.register(BenchRegistry, -1 - 2 * id, nil)
      churn(-2 - 2 * id, r)
    end)
    IO.puts("registry_register ns_per_register=#{div(us * 1000, r)}")
  end
end
RegistryBench.main()

# SPDX-License-Identifier: Apache-2.0
#
# timers.exs: start N timers that would fire in a long time, then cancel each
# (erlang:start_timer/3, erlang:cancel_timer/1); the BEAM twin of
# bench/timers.c.  Reports ns per start+cancel.
defmodule Timers do
  def main do
    n = String.to_integer(System.get_env("N", "1000000"))
    me = self()
    {us, _} = :timer.tc(fn ->
      refs = for _ <- 1..n, do: :erlang.start_timer(100_000_000, me, :x)
      # cancel_timer returns the time left: an integer for a pending timer
      for r <- refs, do: (true = is_integer(:erlang.cancel_timer(r)))
    end)
    IO.puts("timers n=#{n} ms=#{div(us,1000)} ns_per_start_cancel=#{div(us*1000, n)}")
  end
end
Timers.main()

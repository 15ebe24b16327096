# SPDX-License-Identifier: Apache-2.0
#
# phash2_vectors.exs: writes tests/term/phash2_vectors.txt, the reference
# values cotp_term_phash2() and cotp_term_phash2_range() are checked against.
#
#     elixir tools/phash2_vectors.exs
#
# Each line is `<phash2/1> <phash2/2, range 1000> <phash2/2, range 2^32>
# <term>`, the term in Elixir's inspect syntax on one line, which
# cotp_parse() reads back.  The terms are a fixed list of edge cases (every
# type, integers around the 28-bit, 32-bit, small-integer and 64-bit
# boundaries, signed zeros, UTF-8 atoms, binaries of every length modulo 12,
# byte lists and mixed lists, maps on both sides of Erlang's 32-key flatmap
# limit) followed by random nested terms from a fixed seed, so running the
# script again gives the same file.  Pids, references and functions are left
# out: cotp does not hash them as Erlang does.  Run it with OTP 25 (phash2 is
# stable across releases, but that is the release the file was made with).

import Bitwise

defmodule Phash2Vectors do
  @seed {20_250, 25, 2}

  # --- fixed edge cases ---

  def ints do
    powers =
      for k <- [7, 8, 15, 16, 27, 28, 31, 32, 33, 47, 48, 59, 60, 62],
          d <- [-1, 0, 1],
          s <- [1, -1],
          do: s * ((1 <<< k) + d)

    [0, 1, -1, 2, -2, 255, 256, -255, -256, 1 <<< 63, (1 <<< 63) - 1, -(1 <<< 63),
     -(1 <<< 63) + 1, (1 <<< 60) - 1, -(1 <<< 60), 1_000_000_007, -987_654_321_012]
    |> Enum.concat(powers)
    |> Enum.filter(&(&1 >= -(1 <<< 63) and &1 < 1 <<< 63))
    |> Enum.uniq()
  end

  def floats do
    [0.0, -0.0, 1.0, -1.0, 1.5, -2.5, 0.1, 3.141592653589793, 1.0e300, -1.0e300,
     5.0e-324, -5.0e-324, 2.2250738585072014e-308, 1.7976931348623157e308, 1.0e16,
     123_456_789.0, 4.0e-9, 9.007199254740993e15, 2.0, 0.5]
  end

  def atoms do
    [:a, :abc, :ok, :error, true, false, nil, :undefined, :"two words", :Foo,
     Foo.Bar, :héllo, :"日本語", :ÿ, :"Ā", :"αβγ", :"emoji_😀", :"a\"b", :"",
     :abcdefghijklmnopqrstuvwxyz0123456789, :"ç", :"ñandú", :"Ω"]
  end

  def binaries do
    fixed = [
      "", "a", "ab", "abc", "abcd", "hello", "hello world", "héllo wörld",
      "日本語のテキスト", "tab\there", "line\nbreak", "quote\"s and \\ back",
      <<0>>, <<1, 2, 3>>, <<255, 254, 253, 252, 251>>, <<0, 0, 0, 0>>,
      <<128>>, <<"abc", 0>>, "😀 emoji"
    ]

    # Lengths around the 12-byte blocks of the hash and the 64-byte limit of
    # heap binaries.
    lengths = [5, 11, 12, 13, 23, 24, 25, 63, 64, 65, 66, 67, 100, 127, 128, 129, 255, 1000]
    made =
      for n <- lengths do
        [
          :binary.copy("x", n),
          :binary.list_to_bin(for i <- 1..n, do: rem(i * 37 + 11, 256))
        ]
      end

    fixed ++ List.flatten(made)
  end

  def lists do
    [
      [], [[]], [1], [1, 2], [1, 2, 3], [1, 2, 3, 4], [1, 2, 3, 4, 5],
      'a', 'ab', 'abc', 'abcd', 'abcde', 'hello world', 'héllo', [0, 1, 2],
      [255, 255, 255, 255, 255], [256], [-1], [1, 2, 300, 4, 5, 6, 7, 8, -1, 255, 256],
      [1 | 2], [1, 2 | 3], [97, 98 | 99], ['abc' | 'def'], [:a | :b], [[] | []],
      [1, 2, 3 | "tail"], [{}], [{}, []], [:a, :b, :c], [a: 1, b: 2],
      [1.0, 2.0], [1000, 2000, 3000], ["a", "b"], [<<>>], [[1, 2], [3, 4]],
      Enum.to_list(0..255), Enum.to_list(1..100), Enum.to_list(250..300),
      [1 <<< 40, -(1 <<< 40)], [%{}], [%{a: 1} | %{b: 2}], [0.0 | -0.0]
    ]
  end

  def tuples do
    [
      {}, {:a}, {1}, {[]}, {{}}, {:a, :b}, {1, 2, 3}, {:ok, "value"},
      {:error, {:badarg, [1, 2]}}, {{{{}}}}, {1, {2, {3, {4, {5}}}}},
      {"", [], {}, %{}}, {1.5, -0.0, :x, 'str', <<1, 2>>},
      List.to_tuple(Enum.to_list(1..40)), {%{a: %{b: %{c: 1}}}}
    ]
  end

  def maps do
    [
      %{}, %{a: 1}, %{a: 1, b: 2, c: 3}, %{1 => 2, 3 => 4}, %{"k" => "v"},
      %{[] => []}, %{{} => {}}, %{1 => :int, 1.0 => :float},
      %{a: %{}, b: %{c: %{}}}, %{{:a, 1} => [1, 2], "x" => %{y: 'z'}},
      %{:a => 1, "b" => 2, 3 => :c}, %{-0.0 => 1}, %{<<>> => <<>>},
      map_of(31), map_of(32), map_of(33), map_of(64), map_of(100),
      Map.new(1..33, fn i -> {"key#{i}", {i, [i]}} end),
      Map.new(1..50, fn i -> {{:k, i}, %{nested: i}} end),
      {:wrapped, map_of(3), map_of(33)}, [map_of(40) | map_of(2)]
    ]
  end

  defp map_of(n), do: Map.new(1..n, fn i -> {i, i * i} end)

  # --- random nested terms ---

  def random_terms(count) do
    :rand.seed(:exsss, @seed)
    for _ <- 1..count, do: gen(:rand.uniform(5))
  end

  defp gen(0), do: scalar()

  defp gen(depth) do
    case :rand.uniform(10) do
      n when n <= 3 -> scalar()
      4 -> List.to_tuple(for _ <- 1..(:rand.uniform(6) - 1)//1, do: gen(depth - 1))
      5 -> for _ <- 1..(:rand.uniform(6) - 1)//1, do: gen(depth - 1)
      6 -> improper(depth)
      7 -> Map.new(1..(:rand.uniform(6) - 1)//1, fn _ -> {gen(depth - 1), gen(depth - 1)} end)
      8 -> Map.new(1..(30 + :rand.uniform(20)), fn i -> {key(i), scalar()} end)
      9 -> byte_list()
      _ -> for _ <- 1..:rand.uniform(4), do: {pick(atoms()), gen(depth - 1)}
    end
  end

  defp improper(depth) do
    head = for _ <- 1..:rand.uniform(3), do: gen(depth - 1)
    tail = case :rand.uniform(3) do
      1 -> scalar()
      2 -> gen(depth - 1)
      _ -> :rand.uniform(300)
    end
    if is_list(tail), do: head ++ [tail], else: head ++ tail
  end

  defp key(i) do
    case :rand.uniform(4) do
      1 -> i
      2 -> "k#{i}"
      3 -> {:k, i}
      _ -> String.to_atom("key_#{i}")
    end
  end

  defp byte_list do
    n = :rand.uniform(20)
    case :rand.uniform(3) do
      1 -> for _ <- 1..n, do: ?a + :rand.uniform(26) - 1
      2 -> for _ <- 1..n, do: :rand.uniform(256) - 1
      _ -> for _ <- 1..n, do: Enum.random([:rand.uniform(256) - 1, :rand.uniform(100_000)])
    end
  end

  defp scalar do
    case :rand.uniform(9) do
      1 -> pick(ints())
      2 -> :rand.uniform(1 <<< 20) - (1 <<< 19)
      3 -> (:rand.uniform(1 <<< 62) - (1 <<< 61)) * Enum.random([1, 2, 3])
      4 -> pick(floats())
      5 -> (:rand.uniform() - 0.5) * :math.pow(10, :rand.uniform(40) - 20)
      6 -> pick(atoms())
      7 -> :binary.list_to_bin(for _ <- 1..(Enum.random([3, 12, 70]) - 1)//1, do: :rand.uniform(256) - 1)
      8 -> pick(["", "text", "ünïcödé", "ok", "日本"])
      _ -> Enum.random([[], {}, %{}])
    end
  end

  defp pick(list), do: Enum.at(list, :rand.uniform(length(list)) - 1)

  def all do
    fixed = ints() ++ floats() ++ atoms() ++ binaries() ++ lists() ++ tuples() ++ maps()
    fixed ++ random_terms(400 - length(fixed))
  end

  # The text of a term: inspect's, except that a map of more than 32 keys
  # is written with its pairs sorted.  Erlang stores such a map in its
  # internal hash order, which depends on atom table indexes and so changes
  # from run to run; sorting keeps the file the same every time.
  def text(term) do
    if has_big_map?(term), do: sorted_text(term), else: inspect_text(term)
  end

  defp inspect_text(term),
    do: inspect(term, limit: :infinity, printable_limit: :infinity, pretty: false)

  defp has_big_map?(t) when is_map(t),
    do: map_size(t) > 32 or Enum.any?(t, fn {k, v} -> has_big_map?(k) or has_big_map?(v) end)

  defp has_big_map?(t) when is_tuple(t), do: t |> Tuple.to_list() |> Enum.any?(&has_big_map?/1)
  defp has_big_map?([h | t]), do: has_big_map?(h) or has_big_map?(t)
  defp has_big_map?(_), do: false

  defp sorted_text(t) when is_map(t) do
    pairs = for {k, v} <- Enum.sort(Map.to_list(t)), do: text(k) <> " => " <> text(v)
    "%{" <> Enum.join(pairs, ", ") <> "}"
  end

  defp sorted_text(t) when is_tuple(t),
    do: "{" <> Enum.map_join(Tuple.to_list(t), ", ", &text/1) <> "}"

  defp sorted_text(t) when is_list(t), do: "[" <> list_text(t) <> "]"

  defp list_text([h]), do: text(h)
  defp list_text([h | t]) when is_list(t) and t != [], do: text(h) <> ", " <> list_text(t)
  defp list_text([h | t]), do: text(h) <> " | " <> text(t)

  def line(term) do
    text = text(term)
    h1 = :erlang.phash2(term)
    h1000 = :erlang.phash2(term, 1000)
    h32 = :erlang.phash2(term, 1 <<< 32)
    "#{h1} #{h1000} #{h32} #{text}\n"
  end
end

out = Path.join([__DIR__, "..", "tests", "term", "phash2_vectors.txt"])
lines = Enum.map(Phash2Vectors.all(), &Phash2Vectors.line/1)
File.write!(out, lines)
IO.puts("wrote #{length(lines)} terms to #{Path.relative_to_cwd(Path.expand(out))}")

#!/usr/bin/env bash
# The structure docs/architecture.md describes, checked on the sources:
#   1. the top-level folders' #include graph (tests/ aside) has no cycle, and base/ includes nothing outside itself;
#   2. harness/runner*.c name no method: no method name as a string or in a comment, no method kind constant, no
#      include of a method's folder (baselines/, vlap/) -- methods reach the runner through harness/registry.c;
#   3. no file under vlap/ calls a vb_sevila_* / vb_uniform_* function and baselines/ calls no vb_vlap_* one (peers);
#   4. no source file outside tests/ over 1000 lines.
# A negative control runs the cycle finder on a graph with a known cycle.  Fails naming what is wrong.
set -u
cd "${VB_ROOT:-$(dirname "$0")/..}"
fail=0
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find . -name '*.c' -o -name '*.h' | sed 's|^\./||')
[ -n "$files" ] || { echo "FAIL: no C files found"; exit 1; }

# folder -> folder edges, one per line "from to"
edges=$(for f in $files; do
  case $f in tests/*) continue ;; */*) ;; *) continue ;; esac
  src=${f%%/*}
  sed -n 's|^#include "\([a-z_]*\)/.*|\1|p' "$f" | while read -r d; do [ "$d" != "$src" ] && echo "$src $d"; done
done | sort -u)
[ -n "$edges" ] || { echo "FAIL: no include edges found"; exit 1; }

# Prints one cycle of the edge list on stdin ("a -> b -> a"), nothing when there is none.
find_cycle() {
  awk '{ adj[$1] = adj[$1] " " $2; nodes[$1]; nodes[$2] }
    function dfs(n,   i, k, m, lst) {
      state[n] = 1; stack[++depth] = n
      k = split(adj[n], lst, " ")
      for (i = 1; i <= k; i++) {
        m = lst[i]
        if (state[m] == 1) { s = ""; for (j = 1; j <= depth; j++) if (stack[j] == m || s != "") s = s stack[j] " -> "; print s m; found = 1; return }
        if (!state[m]) { dfs(m); if (found) return }
      }
      depth--; state[n] = 2
    }
    END { for (n in nodes) if (!state[n] && !found) dfs(n) }'
}

neg=$(printf 'a b\nb c\nc a\nc d\n' | find_cycle)
[ -n "$neg" ] || { echo "FAIL: the cycle finder misses the cycle a -> b -> c -> a"; fail=1; }
cyc=$(echo "$edges" | find_cycle)
if [ -n "$cyc" ]; then
  echo "FAIL: include cycle between folders: $cyc"; fail=1
else
  echo "ok: the include graph of $(echo "$edges" | awk '{print $1; print $2}' | sort -u | wc -l) folders has no cycle"
fi
base_out=$(echo "$edges" | awk '$1 == "base" { print $2 }')
[ -z "$base_out" ] || { echo "FAIL: base/ includes from: $base_out"; fail=1; }

# the runner names no method
runner=$(ls harness/runner*.c 2>/dev/null)
[ -n "$runner" ] || { echo "FAIL: no harness/runner*.c"; fail=1; }
bad=$(grep -n -i -E 'sevila|"(uniform|vlap)"|\bvlap\b|VB_METHOD_(UNIFORM|SEVILA|VLAP)\b|#include "(baselines|vlap)/' $runner)
if [ -n "$bad" ]; then echo "FAIL: the runner names a method:"; echo "$bad" | sed 's/^/  /'; fail=1; else
  echo "ok: $(echo $runner | wc -w) runner files name no method"; fi

# peers: vlap/ and baselines/ do not call each other
bad=$(grep -n -E '\bvb_(sevila|uniform)_[a-z_]+\(' vlap/*.c vlap/*.h 2>/dev/null; grep -n -E '\bvb_vlap_[a-z_]+\(' baselines/*.c baselines/*.h 2>/dev/null)
if [ -n "$bad" ]; then echo "FAIL: methods call each other:"; echo "$bad" | sed 's/^/  /'; fail=1; else
  echo "ok: vlap/ and baselines/ call none of each other's functions"; fi

# file sizes
big=$(for f in $files; do case $f in tests/*) continue ;; esac
  n=$(wc -l <"$f"); [ "$n" -gt 1000 ] && echo "$f ($n lines)"; done)
if [ -n "$big" ]; then echo "FAIL: source files over 1000 lines:"; echo "$big" | sed 's/^/  /'; fail=1; else
  echo "ok: no source file outside tests/ over 1000 lines"; fi
exit $fail

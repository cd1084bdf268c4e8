#!/usr/bin/env bash
# test_conf_tokenize_cli.sh — conformance (needs ../shared): `vlapbench tokenize` with the committed tokenizers
# (models/tokenizers/) against every golden tokenizer case of $VB_SHARED/golden/{t5,bert}-tokenizer/tokenize_cases*.json
# (they quote dataset text and stay in ../shared):
#   T5 (fast tokenizer.json): every encode string of t5-tokenizer/tokenize_cases.json and tokenize_cases_more.json
#     vs `fast_ids` (exact); right truncation at 77 (first 76 pieces + </s>) and left truncation derived from
#     fast_ids; every decode case vs hf_decode_skip_special / hf_decode_keep_special /
#     hf_decode_skip_special_no_cleanup; malformed input lines -> "stdin:LINE:" and exit 1.
#   BERT (vocab.txt): every encode string of bert-tokenizer/tokenize_cases*.json vs `ids`,
#     `ids_truncated_left_128`, `ids_truncated_right_128`, and the padded `batches`.
# SKIP (77) when the case files are absent (tests/run.sh then reports the whole conformance group in one line).
# The core checks that need nothing outside the repository are tests/test_tokenize_cli.sh.
set -u
: "${VB_BIN:?VB_BIN must point to the vlapbench binary}"
: "${VB_SHARED:=$(cd "$(dirname "$0")/../.." && pwd)/shared}"
: "${VB_ROOT:=$(cd "$(dirname "$0")/.." && pwd)}"
G=$VB_SHARED/golden
TOKS=$VB_ROOT/models/tokenizers
if [ ! -x "$VB_BIN" ]; then
    echo "FAIL: $VB_BIN is not an executable (build first)"
    exit 1
fi
if [ ! -f "$G/t5-tokenizer/tokenize_cases.json" ] || [ ! -f "$G/bert-tokenizer/tokenize_cases.json" ]; then
    echo "SKIP: golden tokenizer case files not found under $G (conformance data, only in ../shared)"
    exit 77
fi
PY=$(command -v python3 || echo /usr/bin/python3)
if [ ! -x "$PY" ]; then
    echo "SKIP: python3 not available for the comparison script"
    exit 77
fi
exec "$PY" - "$VB_BIN" "$G" "$TOKS" <<'EOF'
import json, subprocess, sys

vb, G, TOKS = sys.argv[1], sys.argv[2], sys.argv[3]
T5 = TOKS + "/flan-t5/tokenizer.json"
SPM = TOKS + "/flan-t5/spiece.model"
VOCAB = TOKS + "/bert-base-uncased/vocab.txt"
failures = []
checked = {}

def run(args, lines, expect_rc=0):
    inp = "".join(l + "\n" for l in lines)
    p = subprocess.run([vb, "tokenize"] + args, input=inp.encode("utf-8"), capture_output=True)
    if p.returncode != expect_rc:
        failures.append("tokenize %s: exit %d (expected %d): %s" % (" ".join(args), p.returncode, expect_rc,
                                                                   p.stderr.decode(errors="replace")[:300]))
        return None, p.stderr.decode(errors="replace")
    return p.stdout.decode("utf-8").split("\n")[:-1], p.stderr.decode(errors="replace")

def ids_of(line):
    return [int(x) for x in line.split(" ")] if line else []

def compare(kind, texts, expected, args):
    out, _ = run(args, [json.dumps(t, ensure_ascii=(i % 2 == 0)) for i, t in enumerate(texts)])
    if out is None:
        return
    if len(out) != len(texts):
        failures.append("%s: %d output lines for %d inputs" % (kind, len(out), len(texts)))
        return
    for t, o, e in zip(texts, out, expected):
        got = ids_of(o)
        checked[kind] = checked.get(kind, 0) + 1
        if got != e:
            failures.append("%s: %r\n    got      %s\n    expected %s" % (kind, t[:80], got[:40], e[:40]))

def load(p):
    with open(p, encoding="utf-8") as f:
        return json.load(f)

# ---- T5 encode
t5_cases = []
for fn in ("tokenize_cases.json", "tokenize_cases_more.json"):
    t5_cases += load(G + "/t5-tokenizer/" + fn)["encode"]
texts = [c["text"] for c in t5_cases]
fast = [c["fast_ids"] for c in t5_cases]
compare("t5.encode", texts, fast, ["--t5", T5])
compare("t5.no_special", texts, [f[:-1] for f in fast], ["--t5", T5, "--no-special"])
# truncation: the fast tokenizer truncates the pieces, then appends </s>
for L in (77, 16, 3):
    compare("t5.trunc_right_%d" % L, texts, [f[:-1][:L - 1] + [1] if len(f) > L else f for f in fast],
            ["--t5", T5, "--max-length", str(L)])
compare("t5.trunc_left_16", texts, [f[:-1][-15:] + [1] if len(f) > 16 else f for f in fast],
        ["--t5", T5, "--max-length", "16", "--truncate", "left"])
n_long = sum(1 for f in fast if len(f) > 77)

# known ids from methods.md 2.5
known = [("Frame: ", [16015, 10, 3]), ("Frame 1: ", [16015, 209, 10, 3]), ("Frame 2: ", [16015, 204, 10, 3]),
         ("Frame 3: ", [16015, 220, 10, 3]), ("Frame 4: ", [16015, 314, 10, 3]), ("A", [71]), ("B", [272]),
         ("C", [205]), ("D", [309]), ("E", [262]), ("yes", [4273]), ("no", [150]), ("Option", [10231])]
compare("t5.known", [k[0] for k in known], [k[1] for k in known], ["--t5", T5, "--no-special"])

# ---- tokenizer.json written from spiece.model (sentencepiece ModelProto) must tokenize identically
import os, tempfile
with tempfile.TemporaryDirectory() as td:
    conv = os.path.join(td, "from_spm.json")
    p = subprocess.run([vb, "tokenize", "--spm-to-json", SPM, "--out", conv],
                       capture_output=True)
    if p.returncode != 0:
        failures.append("spm-to-json: exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace")[:300]))
    else:
        with open(conv, encoding="utf-8") as f:
            cj = json.load(f)
        ref = load(T5)
        checked["spm_to_json.layout"] = 1
        for k in ("normalizer", "pre_tokenizer", "post_processor", "added_tokens", "decoder"):
            if cj.get(k) != ref.get(k):
                failures.append("spm-to-json: %s differs from the Flan-T5 tokenizer.json" % k)
        pa, pb = [v[0] for v in cj["model"]["vocab"]], [v[0] for v in ref["model"]["vocab"]]
        if pa != pb:
            failures.append("spm-to-json: vocabulary pieces differ")
        if max(abs(a[1] - b[1]) for a, b in zip(cj["model"]["vocab"], ref["model"]["vocab"])) > 1e-6:
            failures.append("spm-to-json: scores differ by more than 1e-6")
        compare("t5_from_spm.encode", texts, fast, ["--t5", conv])
    p = subprocess.run([vb, "tokenize", "--spm-to-json", VOCAB, "--out", os.path.join(td, "bad.json")],
                       capture_output=True)
    checked["spm_to_json.malformed"] = 1
    if p.returncode != 1:
        failures.append("spm-to-json on a non-protobuf file gave exit %d, expected 1" % p.returncode)

# ---- T5 decode
dec = []
for fn in ("tokenize_cases.json", "tokenize_cases_more.json"):
    dec += load(G + "/t5-tokenizer/" + fn)["decode"]
lines = [" ".join(str(i) for i in c["ids"]) for c in dec]
for flag, field in (([], "hf_decode_skip_special"), (["--keep-special"], "hf_decode_keep_special"),
                    (["--no-cleanup"], "hf_decode_skip_special_no_cleanup")):
    out, _ = run(["--t5", T5, "--decode"] + flag, lines)
    if out is None:
        continue
    if len(out) != len(lines):
        failures.append("t5.decode %s: %d lines for %d" % (field, len(out), len(lines)))
        continue
    for c, o in zip(dec, out):
        if field not in c:
            continue
        checked["t5." + field] = checked.get("t5." + field, 0) + 1
        got = json.loads(o)
        if got != c[field]:
            failures.append("t5.%s: ids %s\n    got      %r\n    expected %r" % (field, c["ids"][:20], got, c[field]))

# ---- BERT encode
bert_cases, batches = [], []
for fn in ("tokenize_cases.json", "tokenize_cases_more.json"):
    d = load(G + "/bert-tokenizer/" + fn)
    bert_cases += d["encode"]
    batches += d.get("batches", [])
btexts = [c["text"] for c in bert_cases]
compare("bert.encode", btexts, [c["ids"] for c in bert_cases], ["--bert", VOCAB])
compare("bert.trunc_left_128", btexts, [c.get("ids_truncated_left_128", c["ids"]) for c in bert_cases],
        ["--bert", VOCAB, "--max-length", "128", "--truncate", "left"])
compare("bert.trunc_right_128", btexts, [c.get("ids_truncated_right_128", c["ids"]) for c in bert_cases],
        ["--bert", VOCAB, "--max-length", "128"])
n_bert_long = sum(1 for c in bert_cases if "ids_truncated_left_128" in c)
# padded batches (ViLA: padding="longest", truncation=True, max_length=128, truncation_side left)
for b in batches:
    out, _ = run(["--bert", VOCAB, "--max-length", "128", "--truncate", "left"], [json.dumps(t) for t in b["texts"]])
    if out is None:
        continue
    rows = [ids_of(o) for o in out]
    L = max(len(r) for r in rows)
    ids = [r + [0] * (L - len(r)) for r in rows]
    mask = [[1] * len(r) + [0] * (L - len(r)) for r in rows]
    checked["bert.batches"] = checked.get("bert.batches", 0) + 1
    if ids != b["input_ids"] or mask != b["attention_mask"]:
        failures.append("bert.batch %r: padded ids/mask differ" % ([t[:30] for t in b["texts"]],))

# ---- malformed input
for kind, args, lines, lineno in (("t5", ["--t5", T5], ['"ok"', '"unterminated'], 2),
                                  ("t5", ["--t5", T5], ['42'], 1),
                                  ("bert", ["--bert", VOCAB], ['"a"', '"b"', '["x"]'], 3),
                                  ("bert", ["--bert", VOCAB], ['"\\ud800"'], 1),
                                  ("t5-decode", ["--t5", T5, "--decode"], ["1 2 x"], 1),
                                  ("t5-decode", ["--t5", T5, "--decode"], ["5 99999999"], 1)):
    out, err = run(args, lines, expect_rc=1)
    checked["malformed"] = checked.get("malformed", 0) + 1
    if out is not None and not err.startswith("stdin:%d:" % lineno):
        failures.append("malformed %s: stderr %r does not start with stdin:%d:" % (kind, err[:100], lineno))
# usage errors
p = subprocess.run([vb, "tokenize", "--t5", T5, "--max-length", "zero"], input=b"", capture_output=True)
checked["usage"] = 1
if p.returncode != 2:
    failures.append("usage: bad --max-length gave exit %d, expected 2" % p.returncode)
p = subprocess.run([vb, "tokenize", "--t5", "/nonexistent/tokenizer.json"], input=b'"a"\n', capture_output=True)
if p.returncode != 1:
    failures.append("missing tokenizer.json gave exit %d, expected 1" % p.returncode)

total = sum(checked.values())
for k in sorted(checked):
    print("  %-40s %5d checked" % (k, checked[k]))
print("T5 strings: %d (%d longer than 77 ids); BERT strings: %d (%d longer than 128); batches: %d"
      % (len(texts), n_long, len(btexts), n_bert_long, len(batches)))
print("%d comparisons, %d mismatches" % (total, len(failures)))
for f in failures[:25]:
    print("MISMATCH " + f)
sys.exit(1 if failures or total < 2000 else 0)
EOF

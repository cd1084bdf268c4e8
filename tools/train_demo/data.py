"""The demo trainer's data: the synthetic event task written by `vlapbench synth --task event` and exported by
`vlapbench demo export` (the exact frames and token ids the C pipeline gives the methods)."""
import json
import os
import subprocess

import numpy as np
import torch

MEAN = torch.tensor([0.48145466, 0.4578275, 0.40821073], dtype=torch.float32)
STD = torch.tensor([0.26862954, 0.26130258, 0.27577711], dtype=torch.float32)
SPM = ["--model_type=unigram", "--vocab_size=400", "--hard_vocab_limit=false", "--character_coverage=1.0",
       "--pad_id=0", "--eos_id=1", "--unk_id=2", "--bos_id=-1", "--num_threads=1", "--random_seed=1",
       "--minloglevel=1"]


def sh(cmd, log, cwd=None):
    log("$ " + " ".join(cmd))
    r = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode != 0:
        raise SystemExit(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout[-3000:]}")
    return r.stdout


def synth(vb, out, videos, questions, seed, log, event_times="iid"):
    """One split of the event task; event_times "stratified" for the demo (evaluation) split (docs/demo.md)."""
    stamp = f"event videos={videos} questions={questions} seed={seed}"
    extra = []
    if event_times != "iid":
        stamp += f" event_times={event_times}"
        extra = ["--event-times", event_times]
    sp = os.path.join(out, ".stamp")
    if os.path.exists(sp) and open(sp).read() == stamp:
        return
    sh([vb, "synth", "--task", "event", "--out", out, "--videos", str(videos), "--questions", str(questions),
        "--seed", str(seed)] + extra, log)
    open(sp, "w").write(stamp)


def tokenizer(vb, synth_dir, tok, log):
    """The demo's tokenizers exactly as scripts/demo.sh builds them, from the training split's text."""
    os.makedirs(tok, exist_ok=True)
    sh([vb, "demo", "corpus", "--synth", synth_dir, "--out", os.path.join(tok, "corpus.txt")], log)
    sh(["spm_train", "--input=corpus.txt", "--model_prefix=spiece"] + SPM, log, cwd=tok)
    sh([vb, "tokenize", "--spm-to-json", os.path.join(tok, "spiece.model"), "--out",
        os.path.join(tok, "tokenizer.json"), "--extra-ids", "100"], log)
    sh([vb, "demo", "wordpiece", "--corpus", os.path.join(tok, "corpus.txt"), "--out",
        os.path.join(tok, "vocab.txt"), "--size", "400"], log)
    os.remove(os.path.join(tok, "corpus.txt"))


class Split:
    """One exported split: header constants, samples (dicts), frames (memmap u8 [n, H, H, 3]), events per video."""

    def __init__(s, vb, synth_dir, tok, prefix, log):
        sh([vb, "demo", "export", "--synth", synth_dir, "--tokenizer-dir", tok, "--out", prefix], log)
        lines = open(prefix + ".jsonl").read().splitlines()
        s.stamp = open(os.path.join(synth_dir, ".stamp")).read().replace("event ", "")
        s.hdr = json.loads(lines[0])
        s.samples = [json.loads(x) for x in lines[1:]]
        H = s.hdr["image_size"]
        s.frames = np.memmap(prefix + ".frames", dtype=np.uint8, mode="r").reshape(-1, H, H, 3)
        man = json.load(open(os.path.join(synth_dir, "manifest.json")))
        COL = ["red", "green", "blue", "yellow", "purple", "orange", "pink", "brown"]
        s.events = {os.path.basename(v["file"]): (v["event"][0], v["event"][1], COL.index(v["card"]))
                    for v in man["videos"]}
        # per frame record: video, index -> relevance label (1 = card), grade (2 = the event's first card frame, the
        # large card; 1 = a later, smaller card; 0 = none) and colour class (8 = no card)
        s.rec_label = np.zeros(len(s.frames), dtype=np.int64)
        s.rec_grade = np.zeros(len(s.frames), dtype=np.int64)
        s.rec_colour = np.full(len(s.frames), 8, dtype=np.int64)
        grade = lambda i, f0, f1: 2 if i == f0 else (1 if f0 < i < f1 else 0)
        for x in s.samples:
            f0, f1, c = s.events[x["video"]]
            for key in ("cand", "cand32", "uniform1", "uniform2", "uniform4"):
                for idx, rec in zip(x[key], x[key + "_rec"]):
                    if f0 <= idx < f1:
                        s.rec_label[rec] = 1
                        s.rec_grade[rec] = grade(idx, f0, f1)
                        s.rec_colour[rec] = c
            x["rel"] = [1 if f0 <= i < f1 else 0 for i in x["cand"]]
            x["rel32"] = [1 if f0 <= i < f1 else 0 for i in x["cand32"]]
            x["grade"] = [grade(i, f0, f1) for i in x["cand"]]
            x["grade32"] = [grade(i, f0, f1) for i in x["cand32"]]

    def pixels(s, recs):
        """(n, 3, H, H) float32, normalised exactly as vb_video_normalize_clip."""
        x = torch.from_numpy(np.ascontiguousarray(s.frames[recs])).float()
        x = (x / 255.0 - MEAN) / STD
        return x.permute(0, 3, 1, 2).contiguous()

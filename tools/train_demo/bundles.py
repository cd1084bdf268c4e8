"""Write the trained models as Hugging Face-layout bundles, exactly like `vlapbench init-model` (same config.json,
same tensor names and shapes, tokenizer.json / vocab.txt beside them), in bf16."""
import json
import os
import shutil

from . import data as D
from . import models as M


def _bundle(a, log, tok, name, cfg, method, tensors, extra):
    d = os.path.join(a.out, name)
    tmp = os.path.join(a.work, "init-" + name)
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    D.sh([a.vlapbench, "init-model", "--config", os.path.join(D_ROOT, "configs", cfg), "--method", method,
          "--seed", "1", "--out", tmp, "--tokenizer-dir", tok] + extra, log)
    hdr = M.st_header(os.path.join(tmp, "model.safetensors"))
    names = [k for k in hdr if k != "__metadata__"]
    missing = [k for k in names if k not in tensors]
    unused = [k for k in tensors if k not in hdr]
    if missing or unused:
        raise SystemExit(f"{name}: tensor names differ from init-model: missing {missing[:5]} unused {unused[:5]}")
    for k in names:
        if list(tensors[k].shape) != hdr[k]["shape"]:
            raise SystemExit(f"{name}: {k} shape {list(tensors[k].shape)} != init-model {hdr[k]['shape']}")
    if os.path.exists(d):
        shutil.rmtree(d)
    os.makedirs(d)
    conf = json.load(open(os.path.join(tmp, "config.json")))
    conf["_comment"] = ("vlapbench trained demo model (tools/train-demo; models/demo/manifest.json): the structure of "
                        f"configs/{cfg} at toy width, trained on the synthetic event task (vlapbench synth --task "
                        "event). Not a real checkpoint.")
    mb = conf["methods_bundle"]
    mb["created_by"] = "tools/train-demo (trained on the synthetic event task; see models/demo/manifest.json)"
    mb["seed"] = a.seed
    json.dump(conf, open(os.path.join(d, "config.json"), "w"), indent=2)
    M.st_write(os.path.join(d, "model.safetensors"), [(k, tensors[k]) for k in names], "BF16",
               {"format": "pt", "vlapbench_trained_by": "tools/train-demo"})
    for f in ("tokenizer.json", "vocab.txt"):
        if os.path.exists(os.path.join(tmp, f)):
            shutil.copy(os.path.join(tmp, f), os.path.join(d, f))
    shutil.rmtree(tmp)
    size = os.path.getsize(os.path.join(d, "model.safetensors"))
    log(f"bundle {name}: {len(names)} tensors, {size / 1e6:.2f} MB")
    return {"tensors": len(names), "bytes": size}


D_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def write_bundles(a, log, tok, blip, loc, ib, prompters, cfg_b, cfg_i):
    out = {}
    base = M.hf_state(blip)
    out["uniform"] = _bundle(a, log, tok, "uniform", "demo-blip2.json", "uniform", base, [])
    sev = dict(base)
    sev.update(M.hf_state(loc, "localizer."))
    out["sevila"] = _bundle(a, log, tok, "sevila", "demo-blip2.json", "sevila", sev, [])
    ibs = M.hf_state(ib)
    for (k, T), fp in sorted(prompters.items(), key=lambda t: (-t[0][1], t[0][0])):
        t = dict(ibs)
        t.update(M.hf_state(fp, "frame_prompter."))
        out[f"vlap-k{k}-T{T}"] = _bundle(a, log, tok, f"vlap-k{k}-T{T}", "demo-instructblip.json", "vlap", t,
                                         ["--frames", str(k), "--candidates", str(T)])
    return out

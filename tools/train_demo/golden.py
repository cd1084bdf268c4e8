"""Check the plain-torch modules (models.py) against the Hugging Face reference outputs in tests/golden/ (produced
with transformers; cases.json describes each case).  Prints the max abs difference per output; exits 1 when one
exceeds the tolerance."""
import json
import os
import sys

import torch

from . import models as M


def run(root, tol=2e-4, log=print):
    worst = {}

    def cmp(name, got, ref):
        d = (got.float() - ref.float()).abs().max().item()
        worst[name] = d
        log(f"golden {name}: max |diff| {d:.2e} (ref max {ref.abs().max().item():.2f})")

    with torch.no_grad():
        for cfgname, instruct in (("tiny", False), ("instruct-tiny", True)):
            d = os.path.join(root, "tests/golden", cfgname)
            cfg = json.load(open(os.path.join(d, "config.json")))
            cfg.setdefault("methods_bundle", {})["ln_vision_eps"] = cfg["vision_config"].get("layer_norm_eps", 1e-6)
            W = M.st_read(os.path.join(d, "model.safetensors"))
            C = M.st_read(os.path.join(d, "cases.safetensors"))
            m = M.Blip2Parts(cfg, instruct)
            M.load_hf_state(m, W, strict=False)
            lo = []
            body = m.vision_model(C["vision.pixel_values"], lo)
            cmp(f"{cfgname}.vision.layer_outputs", torch.stack(lo), C["vision.layer_outputs"])
            last = m.vision_model.post_layernorm(body)
            cmp(f"{cfgname}.vision.last_hidden_state", last, C["vision.last_hidden_state"])
            if not instruct:
                q = m.qformer(m.query_tokens, last)
                cmp(f"{cfgname}.qformer.last_hidden_state", q, C["qformer.last_hidden_state"])
                cmp(f"{cfgname}.projection", m.language_projection(q), C["projection.output"])
                enc = m.language_model.encode(C["t5_encoder.inputs_embeds"], C["t5_encoder.attention_mask"])
                cmp(f"{cfgname}.t5_encoder", enc, C["t5_encoder.last_hidden_state"])
                lg = m.language_model.decode(C["t5_decoder.tf_ids"], C["t5_encoder.last_hidden_state"],
                                             C["t5_encoder.attention_mask"])
                cmp(f"{cfgname}.t5_decoder.tf_logits", lg, C["t5_decoder.tf_logits"])
                enc = m.language_model.encode(m.language_model.shared(C["t5_long.encoder_input_ids"]))
                lg = m.language_model.decode(C["t5_long.decoder_input_ids"], enc)
                cmp(f"{cfgname}.t5_long.logits", lg, C["t5_long.logits"])
                enc = m.language_model.encode(m.language_model.shared(C["t5_long_dec.encoder_input_ids"]))
                lg = m.language_model.decode(C["t5_long_dec.decoder_input_ids"], enc)
                cmp(f"{cfgname}.t5_long_dec.logits", lg, C["t5_long_dec.logits"])
            else:
                q = m.qformer(m.query_tokens, C["qformer.image_embeds"], C["qformer.input_ids"],
                              C["qformer.text_attention_mask"])
                cmp(f"{cfgname}.qformer.last_hidden_state", q, C["qformer.last_hidden_state"])
                Q = m.query_tokens.shape[1]
                cmp(f"{cfgname}.projection", m.language_projection(q[:, :Q]), C["projection.output"])
        d = os.path.join(root, "tests/golden/frame-prompter")
        W = M.st_read(os.path.join(d, "model.safetensors"))
        C = M.st_read(os.path.join(d, "cases.safetensors"))
        f = C["prompter.features"]
        fp = M.FramePrompter(f.shape[2], 4, f.shape[1])
        M.load_hf_state(fp, W, prefix="frame_prompter.")
        lg = fp(f)
        cmp("frame-prompter.logits", lg, C["prompter.logits"])
        if not torch.equal(lg.argmax(-1), C["prompter.selected_local"]):
            worst["frame-prompter.selected_local"] = 1e9
            log("golden frame-prompter.selected_local: MISMATCH")
    bad = {k: v for k, v in worst.items() if v > tol}
    return bad


if __name__ == "__main__":
    bad = run(sys.argv[1] if len(sys.argv) > 1 else ".")
    sys.exit(1 if bad else 0)

#!/usr/bin/env python3
"""Train codefudge's LoRA adapter on GPUs with Hugging Face PEFT + transformers/accelerate.

Reads what `codefudge history export REPO --out data.jsonl` writes and trains the adapter
`codefudge adapt` would: the same FIM prompt (the model family's own template, picked from the
tokenizer's special tokens as codefudge does), the same commit->diff prompt, the same target
modules, rank, alpha and schedule (codefudge-lora.json). The output is a PEFT folder
(adapter_config.json, adapter_model.safetensors) that `codefudge serve --http --adapter DIR`,
the LSP server (setting "adapter") and `vllm serve BASE --enable-lora --lora-modules NAME=DIR`
all load.

    pip install "torch>=2.1" "transformers>=4.40" "peft>=0.10" accelerate safetensors
    accelerate launch finetune/recipes/train_lora.py --model Qwen/Qwen2.5-Coder-1.5B \
        --data data.jsonl --out adapter/
    python3 finetune/recipes/train_lora.py --dry-run ...   # no torch: prints the plan as JSON

--dry-run needs only the standard library: it reads the export and the tokenizer's files and
prints the LoRA config, the template family and the first rendered examples, so the recipe can be
checked where no GPU or Python ML stack is installed.
"""
import argparse
import json
import os
import random
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# The FIM templates of engine/fim.ts: (family, marker tokens, psm, spm or None, add BOS, stop tokens).
FAMILIES = [
    ("qwen", ["<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>"],
     lambda p, s: f"<|fim_prefix|>{p}<|fim_suffix|>{s}<|fim_middle|>", None, False),
    ("deepseek", ["<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>"],
     lambda p, s: f"<｜fim▁begin｜>{p}<｜fim▁hole｜>{s}<｜fim▁end｜>", None, True),
    ("starcoder", ["<fim_prefix>", "<fim_suffix>", "<fim_middle>"],
     lambda p, s: f"<fim_prefix>{p}<fim_suffix>{s}<fim_middle>",
     lambda p, s: f"<fim_prefix><fim_suffix>{s}<fim_middle>{p}", False),
    ("codellama", [["<PRE>", "▁<PRE>"], ["<SUF>", "▁<SUF>"], ["<MID>", "▁<MID>"]],
     lambda p, s: f"<PRE> {p} <SUF>{s} <MID>",
     lambda p, s: f"<PRE> <SUF>{s} <MID> {p}", True),
]


def load_config(path):
    with open(path, encoding="utf-8") as f:
        cfg = json.load(f)
    cfg.pop("comment", None)
    return cfg


def vocabulary(model_dir):
    """Every token string of tokenizer.json (model vocab and added tokens)."""
    path = os.path.join(model_dir, "tokenizer.json")
    if not os.path.exists(path):
        sys.exit(f"train_lora.py: no tokenizer.json in {model_dir} (--dry-run needs a local model folder)")
    with open(path, encoding="utf-8") as f:
        tok = json.load(f)
    vocab = set((tok.get("model") or {}).get("vocab") or {})
    vocab.update(t["content"] for t in tok.get("added_tokens", []))
    return vocab


def detect_family(vocab):
    for family, markers, psm, spm, add_bos in FAMILIES:
        alts = [m if isinstance(m, list) else [m] for m in markers]
        if all(any(a in vocab for a in alt) for alt in alts):
            return family, psm, spm, add_bos
    sys.exit("train_lora.py: the tokenizer has no fill-in-the-middle tokens (e.g. <fim_prefix>)")


def read_rows(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"train_lora.py: {path}:{n}: not JSON: {e}")
            if row.get("kind") not in ("fim", "commit-diff"):
                sys.exit(f"train_lora.py: {path}:{n}: kind must be fim or commit-diff (the training file of history export, not .heldout.jsonl)")
            rows.append(row)
    if not rows:
        sys.exit(f"train_lora.py: {path} has no examples")
    return rows


def pick_mix(rows, cfg, rng):
    """As finetune/adapt/training-set.ts: at most max_examples, commit->diff at commit_diff_share of them."""
    fim = [r for r in rows if r["kind"] == "fim"]
    diff = [r for r in rows if r["kind"] == "commit-diff" and r["diff"]]
    n = min(cfg["max_examples"], len(fim) + len(diff))
    want_diff = min(len(diff), round(n * cfg["commit_diff_share"])) if fim else len(diff)
    want_fim = min(len(fim), n - want_diff)
    return rng.sample(fim, want_fim) + rng.sample(diff, min(len(diff), n - want_fim))


def render(row, template):
    """(prompt text, target text) of one example, as codefudge builds the sequence (before token budgets)."""
    psm, spm = template
    if row["kind"] == "fim":
        build = spm if row["mode"] == "spm" and spm else psm
        return build(row["prefix"], row["suffix"]), row["middle"]
    # finetune/adapt/commit-diff-prompt.ts: message, path, the file before (message and path cut by the trainer's budgets).
    before = row["before"]
    header = f"{row['message'].strip()}\n{row['path'][-200:]}\n"
    body = before if before == "" or before.endswith("\n") else before + "\n"
    return header + body, row["diff"]


def lora_config_kwargs(cfg):
    return {
        "r": cfg["r"], "lora_alpha": cfg["lora_alpha"], "lora_dropout": cfg["lora_dropout"],
        "target_modules": cfg["target_modules"], "bias": "none", "task_type": "CAUSAL_LM",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True, help="base model folder or hub id (the one codefudge and vLLM serve)")
    ap.add_argument("--data", required=True, help="training JSONL from `codefudge history export`")
    ap.add_argument("--out", required=True, help="adapter folder to write (PEFT format)")
    ap.add_argument("--config", default=os.path.join(HERE, "codefudge-lora.json"))
    ap.add_argument("--dry-run", action="store_true", help="print the plan as JSON; needs no torch")
    args = ap.parse_args()

    cfg = load_config(args.config)
    rows = read_rows(args.data)
    rng = random.Random(cfg["seed"])
    picked = pick_mix(rows, cfg, rng)

    if args.dry_run:
        family, psm, spm, add_bos = detect_family(vocabulary(args.model))
        first = {}
        for row in rows:
            if row["kind"] not in first:
                prompt, target = render(row, (psm, spm))
                first[row["kind"]] = {"prompt": prompt, "target": target}
        print(json.dumps({
            "lora_config": lora_config_kwargs(cfg),
            "family": family, "add_bos": add_bos,
            "examples": {"read": len(rows), "fim": sum(r["kind"] == "fim" for r in picked), "commit-diff": sum(r["kind"] == "commit-diff" for r in picked)},
            "training": {k: cfg[k] for k in ("learning_rate", "warmup_ratio", "lr_scheduler_type", "weight_decay", "max_grad_norm", "max_seq_len", "sequences_per_step", "num_train_epochs", "fim_loss")},
            "first": first,
        }, ensure_ascii=False, indent=1))
        return

    import torch  # noqa: F401  (the real run: torch, transformers, peft, accelerate)
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, Trainer, TrainingArguments

    tok = AutoTokenizer.from_pretrained(args.model)
    family, psm, spm, add_bos = detect_family(set(tok.get_vocab()))
    end_id = tok.eos_token_id
    sentinels = set(tok.all_special_ids)
    max_len = cfg["max_seq_len"]

    def encode(row):
        prompt, target = render(row, (psm, spm))
        head = ([tok.bos_token_id] if add_bos and tok.bos_token_id is not None else []) + tok.encode(prompt, add_special_tokens=False)
        body = tok.encode(target, add_special_tokens=False)
        share = 0.5 if row["kind"] == "fim" else 0.6
        body = body[: int(max_len * share)]
        if len(body) < int(max_len * share):
            body = body + [end_id]
        room = max_len - len(body)
        # FIM keeps the prompt's end (the cursor side); commit->diff its start (message and path).
        head = head[-room:] if row["kind"] == "fim" else head[:room]
        learn_prompt = row["kind"] == "fim" and cfg["fim_loss"] == "all"
        labels = [(t if learn_prompt and i > 0 and t not in sentinels else -100) for i, t in enumerate(head)] + body
        return {"input_ids": head + body, "labels": labels}

    data = [encode(r) for r in picked]

    def collate(batch):
        n = max(len(b["input_ids"]) for b in batch)
        pad = tok.pad_token_id if tok.pad_token_id is not None else end_id
        return {
            "input_ids": torch.tensor([b["input_ids"] + [pad] * (n - len(b["input_ids"])) for b in batch]),
            "labels": torch.tensor([b["labels"] + [-100] * (n - len(b["labels"])) for b in batch]),
            "attention_mask": torch.tensor([[1] * len(b["input_ids"]) + [0] * (n - len(b["input_ids"])) for b in batch]),
        }

    model = AutoModelForCausalLM.from_pretrained(args.model, torch_dtype=torch.bfloat16 if torch.cuda.is_available() else torch.float32)
    model = get_peft_model(model, LoraConfig(**lora_config_kwargs(cfg)))
    model.print_trainable_parameters()
    world = int(os.environ.get("WORLD_SIZE", "1"))
    per_device = max(1, cfg["sequences_per_step"] // world)
    trainer = Trainer(
        model=model,
        args=TrainingArguments(
            output_dir=os.path.join(args.out, "checkpoints"), per_device_train_batch_size=per_device, gradient_accumulation_steps=1,
            learning_rate=cfg["learning_rate"], warmup_ratio=cfg["warmup_ratio"], lr_scheduler_type=cfg["lr_scheduler_type"],
            weight_decay=cfg["weight_decay"], max_grad_norm=cfg["max_grad_norm"], num_train_epochs=cfg["num_train_epochs"],
            bf16=torch.cuda.is_available(), logging_steps=10, save_strategy="epoch", seed=cfg["seed"], report_to=[],
            remove_unused_columns=False,
        ),
        train_dataset=data,
        data_collator=collate,
    )
    trainer.train()
    # adapter_config.json + adapter_model.safetensors, keys base_model.model.model.layers.N....lora_A.weight.
    model.save_pretrained(args.out, safe_serialization=True)
    print(f"adapter written to {args.out}: codefudge serve --http --adapter {args.out}; vllm serve {args.model} --enable-lora --lora-modules repo={os.path.abspath(args.out)}")


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The LoRA training step `codefudge bench lora` times, in plain PyTorch on CPU, for comparison.

Same work per step: a Llama-family decoder (RMSNorm, rotary, grouped-query attention, SwiGLU)
in float32 with frozen weights, LoRA (A, B) on all seven projections of every layer, next-token
cross-entropy on random tokens, backward, AdamW. Weights are random (throughput does not depend
on their values); only the model folder's config.json is read.

usage: /usr/bin/python3 bench/lora_torch.py MODEL_DIR --batch 4 --seq 256 --rank 8 --steps 5 --threads 2
prints one JSON line: {"tokensPerSecond": ..., "secondsPerStep": ..., "peakRssBytes": ...}
"""
import argparse
import json
import math
import os
import resource
import time

import torch
import torch.nn.functional as F


class LoraLinear(torch.nn.Module):
    def __init__(self, d_in, d_out, rank, alpha, bias):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.randn(d_out, d_in) * 0.02, requires_grad=False)
        self.bias = torch.nn.Parameter(torch.zeros(d_out), requires_grad=False) if bias else None
        self.lora_A = torch.nn.Parameter(torch.empty(rank, d_in))
        torch.nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))
        self.lora_B = torch.nn.Parameter(torch.zeros(d_out, rank))
        self.scale = alpha / rank

    def forward(self, x):
        return F.linear(x, self.weight, self.bias) + (x @ self.lora_A.t() @ self.lora_B.t()) * self.scale


class RMSNorm(torch.nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(d), requires_grad=False)
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Layer(torch.nn.Module):
    def __init__(self, c, rank, alpha):
        super().__init__()
        h, nh, nkv = c["hidden_size"], c["num_attention_heads"], c.get("num_key_value_heads", c["num_attention_heads"])
        self.nh, self.nkv = nh, nkv
        self.hd = c.get("head_dim") or h // nh
        f = c["intermediate_size"]
        qkv_bias = c.get("model_type") == "qwen2" or c.get("attention_bias", False)
        self.q_proj = LoraLinear(h, nh * self.hd, rank, alpha, qkv_bias)
        self.k_proj = LoraLinear(h, nkv * self.hd, rank, alpha, qkv_bias)
        self.v_proj = LoraLinear(h, nkv * self.hd, rank, alpha, qkv_bias)
        self.o_proj = LoraLinear(nh * self.hd, h, rank, alpha, False)
        self.gate_proj = LoraLinear(h, f, rank, alpha, False)
        self.up_proj = LoraLinear(h, f, rank, alpha, False)
        self.down_proj = LoraLinear(f, h, rank, alpha, False)
        eps = c.get("rms_norm_eps", 1e-6)
        self.input_layernorm = RMSNorm(h, eps)
        self.post_attention_layernorm = RMSNorm(h, eps)

    def forward(self, x, cos, sin):
        b, s, _ = x.shape
        y = self.input_layernorm(x)
        q = self.q_proj(y).view(b, s, self.nh, self.hd).transpose(1, 2)
        k = self.k_proj(y).view(b, s, self.nkv, self.hd).transpose(1, 2)
        v = self.v_proj(y).view(b, s, self.nkv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        group = self.nh // self.nkv
        k = k.repeat_interleave(group, dim=1)
        v = v.repeat_interleave(group, dim=1)
        # torch 1.13 (Debian's) has no scaled_dot_product_attention: eager attention as transformers runs it.
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(self.hd)
        causal = torch.ones(s, s, dtype=torch.bool).triu(1)
        att = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1) @ v
        x = x + self.o_proj(att.transpose(1, 2).reshape(b, s, -1))
        y = self.post_attention_layernorm(x)
        return x + self.down_proj(F.silu(self.gate_proj(y)) * self.up_proj(y))


class Model(torch.nn.Module):
    def __init__(self, c, rank, alpha):
        super().__init__()
        self.embed = torch.nn.Parameter(torch.randn(c["vocab_size"], c["hidden_size"]) * 0.02, requires_grad=False)
        self.layers = torch.nn.ModuleList([Layer(c, rank, alpha) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c.get("rms_norm_eps", 1e-6))
        tied = c.get("tie_word_embeddings", False)
        self.lm_head = self.embed if tied else torch.nn.Parameter(torch.randn(c["vocab_size"], c["hidden_size"]) * 0.02, requires_grad=False)
        hd = self.layers[0].hd
        self.inv_freq = 1.0 / (c.get("rope_theta", 10000.0) ** (torch.arange(0, hd, 2).float() / hd))

    def forward(self, ids):
        pos = torch.arange(ids.shape[1]).float()
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]
        x = self.embed[ids]
        for layer in self.layers:
            x = layer(x, cos, sin)
        return self.norm(x) @ self.lm_head.t()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=256)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    with open(os.path.join(a.model, "config.json")) as f:
        config = json.load(f)
    model = Model(config, a.rank, 2 * a.rank)
    params = [q for q in model.parameters() if q.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-4)
    times = []
    for step in range(a.steps + 1):
        ids = torch.randint(0, config["vocab_size"], (a.batch, a.seq))
        t0 = time.perf_counter()
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, logits.shape[-1]), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if step > 0:  # the first step warms up allocators and kernels
            times.append(time.perf_counter() - t0)
    per_step = sum(times) / len(times)
    print(json.dumps({
        "tokensPerSecond": a.batch * a.seq / per_step,
        "secondsPerStep": per_step,
        "peakRssBytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "torch": torch.__version__,
        "threads": a.threads,
    }))


if __name__ == "__main__":
    main()

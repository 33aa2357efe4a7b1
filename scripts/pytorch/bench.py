"""The workloads of Benchmarks/AdderBench in PyTorch (eager mode, CPU), printed as JSON.

Same schema as `adder-bench` (see Benchmarks/AdderBench/BenchReport.swift), so scripts/bench/compare
reads both with one parser. Same inputs: random images uniform over the normalized pixel range,
labels and addends uniform in 0...9; the seed network from seed_net.py, Adam lr 1e-3, batch 128.

Training runs first so its peak resident memory (ru_maxrss, KiB) is read before anything else
allocates. Times are medians of repeated runs (the figure the comparison uses) plus the minimum.

    python3 scripts/pytorch/bench.py [--threads 2] [--training-batches 30] [--quick] [--paired]
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from seed_net import MEAN, STD, SeedNet, loss_terms  # noqa: E402

LOW = (0 - MEAN) / STD
HIGH = (1 - MEAN) / STD


def summary(times):
    """Median, min and count of `times` seconds, as TimingSummary."""
    ordered = sorted(times)
    mid = len(ordered) // 2
    median = ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    return {"median": median, "min": ordered[0], "samples": len(ordered)}


def time_samples(body, warmup, samples):
    for _ in range(warmup):
        body()
    times = []
    for _ in range(max(samples, 1)):
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    return summary(times)


def random_batch(size, generator):
    images = torch.empty(size, 1, 28, 28).uniform_(LOW, HIGH, generator=generator)
    labels = torch.randint(0, 10, (size,), generator=generator)
    addends = torch.randint(0, 10, (size,), generator=generator)
    return images, labels, addends


def current_rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class TrainingSession:
    """The training workload kept between calls, as adder-bench's TrainingSession: the seed network
    (torch seed 0), Adam lr 1e-3 and four random batches (generator seed 1) taken in turn."""

    def __init__(self, batch):
        self.batch = batch
        torch.manual_seed(0)
        self.model = SeedNet()
        self.model.train()
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=1e-3)
        generator = torch.Generator().manual_seed(1)
        self.inputs = [random_batch(batch, generator) for _ in range(4)]
        self.taken = 0

    def step(self):
        """One training step on the next batch; returns (forward+backward seconds, optimizer seconds)."""
        images, labels, addends = self.inputs[self.taken % len(self.inputs)]
        self.taken += 1
        start = time.perf_counter()
        self.optimizer.zero_grad(set_to_none=True)
        logits, total = self.model(images, addends)
        _, _, loss = loss_terms(logits, total, labels, addends)
        loss.backward()
        stepped = time.perf_counter()
        self.optimizer.step()
        end = time.perf_counter()
        return stepped - start, end - stepped

    def train(self, batches):
        """Runs `batches` steps; returns their total seconds."""
        return sum(sum(self.step()) for _ in range(batches))


def measure_training(batch, batches, warmup):
    resident_before = current_rss_kib()
    session = TrainingSession(batch)
    times, step_times, optimizer_times = [], [], []
    for i in range(warmup + batches):
        step, optimizer = session.step()
        if i >= warmup:
            times.append(step + optimizer)
            step_times.append(step)
            optimizer_times.append(optimizer)
    per_batch = summary(times)
    return {
        "batch": batch, "batches": batches, "warmupBatches": warmup,
        "imagesPerSecond": batch * len(times) / sum(times),
        "medianImagesPerSecond": batch / per_batch["median"],
        "perBatch": per_batch,
        "forwardBackward": summary(step_times),
        "optimizer": summary(optimizer_times),
        "peakResidentKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "residentBeforeKiB": resident_before,
    }


def run_paired(batch, warmup):
    """The --paired protocol of adder-bench: 'ready' after the warm-up, then per stdin line N the
    time of N more training batches as one JSON line."""
    session = TrainingSession(batch)
    session.train(warmup)
    print("ready", flush=True)
    for line in sys.stdin:
        text = line.strip()
        if not text.isdigit() or not 1 <= int(text) <= 1000:
            sys.exit(f"bench.py --paired: expected a batch count from 1 to 1000 per line, found {line.rstrip()!r}")
        batches = int(text)
        print(json.dumps({"batches": batches, "seconds": session.train(batches)}), flush=True)


def inference_samples(batch, samples):
    return max(samples, min(200, 2000 // max(batch, 1)))


def measure_inference(batch, samples):
    torch.manual_seed(0)
    model = SeedNet().eval()
    images, _, addends = random_batch(batch, torch.Generator().manual_seed(2))

    def body():
        with torch.inference_mode():
            model(images, addends)

    per_call = time_samples(body, 2, inference_samples(batch, samples))
    return {"batch": batch, "imagesPerSecond": batch / per_call["median"], "perCall": per_call}


def measure_layers(batch, samples):
    torch.manual_seed(3)
    model = SeedNet()
    sizes = {"input1": 28, "conv1": 26, "conv2": 24, "oneconv1": 11, "conv3": 11, "conv4": 9, "conv5": 7, "conv6": 5}
    figures = []
    for name in ["input1", "conv1", "conv2", "oneconv1", "conv3", "conv4", "conv5", "conv6"]:
        conv = getattr(model, name)
        c, o, k = conv.in_channels, conv.out_channels, conv.kernel_size[0]
        size = sizes[name]
        p = (size - k + 1) ** 2
        needs_grad_input = name != "input1"
        x = torch.empty(batch, c, size, size).uniform_(-1, 1).requires_grad_(needs_grad_input)

        def forward():
            with torch.no_grad():
                F.relu(conv(x)) if name != "conv6" else conv(x)

        forward_time = time_samples(forward, 1, samples)
        out = conv(x)
        grad_out = torch.empty_like(out).uniform_(-1, 1)
        wrt = ([x] if needs_grad_input else []) + [conv.weight, conv.bias]

        def backward():
            torch.autograd.grad(out, wrt, grad_out, retain_graph=True)

        backward_time = time_samples(backward, 1, samples)
        flops = 2.0 * batch * o * c * k * k * p
        backward_flops = 2 * flops if needs_grad_input else flops
        figures.append({
            "name": name, "forwardFLOPs": flops, "backwardFLOPs": backward_flops,
            "forward": forward_time, "backward": backward_time,
            "forwardGFLOPs": flops / forward_time["median"] / 1e9,
            "backwardGFLOPs": backward_flops / backward_time["median"] / 1e9,
        })
        if name == "conv2":
            figures.append(measure_pool(batch, samples))
    return figures


def measure_pool(batch, samples):
    x = torch.empty(batch, 64, 22, 22).uniform_(-1, 1).requires_grad_(True)

    def forward():
        with torch.no_grad():
            F.max_pool2d(x, 2)

    forward_time = time_samples(forward, 1, samples)
    out = F.max_pool2d(x, 2)
    grad_out = torch.empty_like(out).uniform_(-1, 1)
    backward_time = time_samples(lambda: torch.autograd.grad(out, [x], grad_out, retain_graph=True), 1, samples)
    return {"name": "pool", "forwardFLOPs": 0, "backwardFLOPs": 0, "forward": forward_time,
            "backward": backward_time, "forwardGFLOPs": 0, "backwardGFLOPs": 0}


def measure_matmul(threads, samples):
    """torch.mm on 512x512x512 with all of PyTorch's threads: its own BLAS's speed, for reference."""
    a, b = torch.rand(512, 512), torch.rand(512, 512)
    flops = 2.0 * 512 ** 3
    repeats = max(1, int(2e8 / flops))

    def body():
        for _ in range(repeats):
            torch.mm(a, b)

    t = time_samples(body, 1, samples)
    per_call = {"median": t["median"] / repeats, "min": t["min"] / repeats, "samples": t["samples"]}
    return [{"name": "512x512x512", "m": 512, "n": 512, "k": 512, "transA": False, "transB": False,
             "concurrent": threads, "time": per_call, "gflops": flops / per_call["median"] / 1e9}]


def blas_name():
    config = torch.__config__.show()
    for word in ["MKL", "OpenBLAS", "oneDNN"]:
        if word.lower() in config.lower():
            return f"torch {torch.__version__} ({word})"
    return f"torch {torch.__version__}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    parser.add_argument("--training-batches", type=int, default=30)
    parser.add_argument("--quick", action="store_true", help="a few-second run to check the script works")
    parser.add_argument("--paired", action="store_true",
                        help="paired runs for scripts/bench/compare: after 'ready', time N training batches per stdin line N")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    batch, batches, warmup, inference_batches, samples = 128, args.training_batches, 3, [1, 128, 1000], 7
    if args.quick:
        batch, batches, warmup, inference_batches, samples = 32, 3, 1, [1, 32], 2

    if args.paired:
        run_paired(batch, warmup)
        return

    def progress(line):
        print(f"bench.py: {line}", file=sys.stderr, flush=True)

    training = measure_training(batch, batches, warmup)
    progress(f"training: {int(training['imagesPerSecond'])} images/s")
    inference = []
    for b in inference_batches:
        inference.append(measure_inference(b, samples))
        progress(f"inference batch {b}: {int(inference[-1]['imagesPerSecond'])} images/s")
    layers = measure_layers(batch, samples)
    progress(f"layers: {len(layers)} measured")
    report = {
        "implementation": "pytorch", "threads": torch.get_num_threads(), "blasCore": blas_name(),
        "training": training, "inference": inference, "layers": layers,
        "gemm": measure_matmul(torch.get_num_threads(), samples),
    }
    print(json.dumps(report, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()

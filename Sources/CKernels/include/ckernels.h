// Kernels of our own written in C, where Swift cannot ask for a CPU feature per function: the FMA
// peak loop of the roofline (`mnist-adder summary --plan --measure`) here, the Winograd transforms
// in ckernels_transforms.h. Each x86-64 kernel is compiled for its instruction set with a target
// attribute and chosen at run time, so the binary still runs on any x86-64 CPU.
#ifndef CKERNELS_H
#define CKERNELS_H

#include "ckernels_transforms.h"

/// The widest FMA vector this CPU runs, in floats: 16 (AVX-512F), 8 (AVX2 with FMA), 4 (ARM64
/// NEON), 0 (none this file knows).
int ckernels_fma_width(void);

/// Whether the FMA loop of `width` floats (16, 8 or 4) can run on this CPU.
int ckernels_fma_supported(int width);

/// The FMA peak loop: `chains` = 12 independent accumulators of `width` floats, each updated
/// `iterations` times as a = a·x + y (one fused multiply-add per lane: 2 FLOP) with x = 0.999,
/// y = 0.001, starting from a = 0.5; returns the sum of all lanes of all accumulators at the end,
/// so that the work cannot be dropped and its result can be checked. A width the CPU does not run
/// returns NaN. FLOPs done: 2 · width · 12 · iterations.
float ckernels_fma_loop(int width, long iterations);

/// The number of CPUs in this process's affinity mask (`taskset`, a cgroup's cpuset) on Linux; 0 where
/// it cannot be read (other systems).
int ckernels_allowed_cpus(void);

/// The number of accumulators `ckernels_fma_loop` keeps: enough to hide an FMA's latency (4
/// cycles) on two FMA units.
#define CKERNELS_FMA_CHAINS 12

#endif

// The CPUs this process may run on (see ckernels.h).
#define _GNU_SOURCE
#include <sched.h>
#include "ckernels.h"

int ckernels_allowed_cpus(void) {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) == 0) return CPU_COUNT(&set);
#endif
    return 0;
}

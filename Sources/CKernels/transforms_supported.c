// Which transform kernels this CPU runs (see ckernels_transforms.h).
#include "ckernels_transforms.h"

int ckernels_transforms_supported(int width) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (width == 16) return __builtin_cpu_supports("avx512f");
    if (width == 8) return __builtin_cpu_supports("avx2");
#else
    (void)width;
#endif
    return 0;
}

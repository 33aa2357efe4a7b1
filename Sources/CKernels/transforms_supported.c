// Which transform kernels this CPU runs, and which it runs fastest (see ckernels_transforms.h).
#include "ckernels_transforms.h"
#if defined(__x86_64__)
#include <cpuid.h>
#include <string.h>
#endif

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

int ckernels_avx2_is_split(void) {
#if defined(__x86_64__)
    unsigned int eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return 0;
    char vendor[13];
    memcpy(vendor, &ebx, 4); memcpy(vendor + 4, &edx, 4); memcpy(vendor + 8, &ecx, 4);
    vendor[12] = 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    unsigned int family = (eax >> 8) & 0xf, model = (eax >> 4) & 0xf;
    if (family == 0xf) {
        family += (eax >> 20) & 0xff;
        model |= ((eax >> 16) & 0xf) << 4;
    }
    if (strcmp(vendor, "AuthenticAMD") == 0 && family == 0x17 && model < 0x30) return 1;  // Zen, Zen+
    if (strcmp(vendor, "HygonGenuine") == 0 && family == 0x18) return 1;                  // Dhyana (Zen)
#endif
    return 0;
}

int ckernels_transforms_preferred_width(void) {
    if (ckernels_transforms_supported(16)) return 16;
    if (ckernels_transforms_supported(8) && !ckernels_avx2_is_split()) return 8;
    return 4;
}

// libFuzzer's entry point for programs that have their own main (compiler-rt's FuzzerInterface.h).
// SwiftPM links each executable with main aliased to <Target>_main, so libFuzzer's own main is never
// used: each fuzz target's <Target>_main calls this driver with its LLVMFuzzerTestOneInput.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

/* Prints the native shim's struct layout table (fe_struct_layout), one "name value" line per row.
 * Arm64AbiTests builds it for the host and for arm64 (run under qemu) against each shim archive. */
#include "fastepmd_shim.h"
#include <stdio.h>

int main(void)
{
    for (int32_t i = 0;; i++) {
        const char *name;
        int32_t value = fe_struct_layout(i, &name);
        if (value < 0) return 0;
        printf("%s %d\n", name, value);
    }
}

/* The peer for tools/bench/modbus: the same sequential reads as the agent's driver, in a
 * plain C loop over libmodbus. Usage: modbus-raw PORT COUNT */
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 1502, count = argc > 2 ? atoi(argv[2]) : 2000;
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    if (!ctx || modbus_connect(ctx) != 0) { fprintf(stderr, "connect failed\n"); return 1; }
    modbus_set_slave(ctx, 2);
    uint16_t regs[2];
    if (modbus_read_input_registers(ctx, 1, 2, regs) != 2) { fprintf(stderr, "read failed\n"); return 1; }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < count; i++) {
        if (modbus_read_input_registers(ctx, 1, 2, regs) != 2) { fprintf(stderr, "read %d failed\n", i); return 1; }
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double s = (b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
    printf("c-libmodbus %d transactions in %.3f s: %d per second\n", count, s, (int)(count / s));
    modbus_close(ctx);
    modbus_free(ctx);
    return 0;
}

/* A Modbus TCP server on libmodbus for the throughput benchmark: the pymodbus simulator
 * spends ~100 us of Python per request, which hides the client's own cost; this one answers
 * in microseconds, so the comparison measures the clients. Serves one client at a time.
 * Usage: modbus-server PORT */
#include <modbus.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 1502;
    modbus_t *ctx = modbus_new_tcp("127.0.0.1", port);
    modbus_mapping_t *map = modbus_mapping_new(0, 0, 200, 16);
    map->tab_input_registers[1] = 245;   /* 24.5 degC */
    map->tab_input_registers[2] = 550;   /* 55.0 %RH */
    int listener = modbus_tcp_listen(ctx, 1);
    if (listener < 0) { perror("listen"); return 1; }
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    for (;;) {
        int client = modbus_tcp_accept(ctx, &listener);
        if (client < 0) continue;
        for (;;) {
            int n = modbus_receive(ctx, query);
            if (n > 0) modbus_reply(ctx, query, n, map);
            else if (n < 0) break;
        }
        close(client);
    }
}

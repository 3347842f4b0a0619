/*
 * fuzz_config.c - libFuzzer target for the configuration loaders: bytes as a YAML pipeline
 * (or, when the first byte is 'P', the rest as a Flume .properties file for agent a1), bound
 * and validated into a pipeline, printed, freed. Whatever the text, the result is a pipeline
 * or an error with a position, never a crash or a leak. Nothing is started.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent.h"
#include "conf/flume_props.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) {
        return 0;
    }
    int flume = size > 0 && data[0] == 'P';
    char *text = malloc(size + 1);
    if (!text) {
        return 0;
    }
    memcpy(text, data, size);
    text[size] = '\0';
    struct sl_yaml_doc doc;
    struct sl_err err;
    sl_err_clear(&err);
    int rc = flume ? sl_flume_props_load_string(text + 1, "fuzz.conf", "a1", &doc, &err)
                   : sl_yaml_load_string(text, size, &doc, &err);
    struct sl_agent *a = NULL;
    if (rc == 0) {
        rc = sl_agent_build(&doc, &a, &err);
    }
    if (rc == 0) {
        FILE *out = fopen("/dev/null", "w");
        if (out) {
            sl_agent_print(a, out);
            fclose(out);
        }
    } else if (err.msg[0] == '\0') {
        abort(); /* every rejection says why */
    }
    sl_agent_destroy(a);
    sl_yaml_free(&doc);
    free(text);
    return 0;
}

/* The Vulkan probe of program.py in C, for guests without Python: the same options, the same JSON-lines
 * events on stdout, the same phases, steps and exit statuses, so the same runner reads either.
 *
 * It links against glibc only: libvulkan.so.1 is opened with dlopen and every entry point comes from
 * vkGetInstanceProcAddr or vkGetDeviceProcAddr.
 * Build: gcc -std=gnu11 -O2 -Wall -Wextra -o probe guest.c -ldl
 */
#define _GNU_SOURCE
#define VK_NO_PROTOTYPES
#include <vulkan/vulkan.h>

#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_PASSED = 0, EXIT_FAILED = 1, EXIT_USAGE = 2, EXIT_SETUP = 3 };
enum { SLOT_SUCCESS = 0, SLOT_NOT_READY = 1 };
enum { SLOT_BUFFER_SIZE = 4096 }; /* Venus's feedback buffers are 4096 bytes of 8-byte slots */
#define NEVER_A_STATUS ((VkResult)99) /* polled for to time a loop that never ends early */

static const char HELP[] =
    "usage: venustui probe [-h] [--phase PHASE] [--deadline DEADLINE]\n"
    "                      [--watch SECONDS] [--rounds ROUNDS]\n"
    "\n"
    "The Vulkan probe: the seed's fence steps and the feedback-slot experiment, as\n"
    "JSON lines.\n"
    "\n"
    "options:\n"
    "  -h, --help           show this help message and exit\n"
    "  --phase PHASE        fence, map or fence,map (default)\n"
    "  --deadline DEADLINE  seconds to wait for a fence or slot\n"
    "  --watch SECONDS      resubmit every SECONDS and stream samples\n"
    "  --rounds ROUNDS      with --watch: stop after this many resubmits\n";

#define NAMED(value) { value, #value }
static const struct { VkResult value; const char *name; } RESULT_NAMES[] = {
    NAMED(VK_SUCCESS), NAMED(VK_NOT_READY), NAMED(VK_TIMEOUT), NAMED(VK_EVENT_SET), NAMED(VK_EVENT_RESET),
    NAMED(VK_INCOMPLETE), NAMED(VK_ERROR_OUT_OF_HOST_MEMORY), NAMED(VK_ERROR_OUT_OF_DEVICE_MEMORY),
    NAMED(VK_ERROR_INITIALIZATION_FAILED), NAMED(VK_ERROR_DEVICE_LOST), NAMED(VK_ERROR_MEMORY_MAP_FAILED),
    NAMED(VK_ERROR_LAYER_NOT_PRESENT), NAMED(VK_ERROR_EXTENSION_NOT_PRESENT), NAMED(VK_ERROR_FEATURE_NOT_PRESENT),
    NAMED(VK_ERROR_INCOMPATIBLE_DRIVER), NAMED(VK_ERROR_TOO_MANY_OBJECTS), NAMED(VK_ERROR_FORMAT_NOT_SUPPORTED),
    NAMED(VK_ERROR_FRAGMENTED_POOL), NAMED(VK_ERROR_UNKNOWN), NAMED(VK_ERROR_OUT_OF_POOL_MEMORY),
    NAMED(VK_ERROR_INVALID_EXTERNAL_HANDLE), NAMED(VK_ERROR_FRAGMENTATION),
    NAMED(VK_ERROR_INVALID_OPAQUE_CAPTURE_ADDRESS), NAMED(VK_PIPELINE_COMPILE_REQUIRED),
    NAMED(VK_ERROR_SURFACE_LOST_KHR), NAMED(VK_ERROR_NATIVE_WINDOW_IN_USE_KHR), NAMED(VK_SUBOPTIMAL_KHR),
    NAMED(VK_ERROR_OUT_OF_DATE_KHR), NAMED(VK_ERROR_INCOMPATIBLE_DISPLAY_KHR), NAMED(VK_ERROR_VALIDATION_FAILED_EXT),
    NAMED(VK_ERROR_INVALID_SHADER_NV), NAMED(VK_ERROR_IMAGE_USAGE_NOT_SUPPORTED_KHR),
    NAMED(VK_ERROR_VIDEO_PICTURE_LAYOUT_NOT_SUPPORTED_KHR), NAMED(VK_ERROR_VIDEO_PROFILE_OPERATION_NOT_SUPPORTED_KHR),
    NAMED(VK_ERROR_VIDEO_PROFILE_FORMAT_NOT_SUPPORTED_KHR), NAMED(VK_ERROR_VIDEO_PROFILE_CODEC_NOT_SUPPORTED_KHR),
    NAMED(VK_ERROR_VIDEO_STD_VERSION_NOT_SUPPORTED_KHR),
    NAMED(VK_ERROR_INVALID_DRM_FORMAT_MODIFIER_PLANE_LAYOUT_EXT), NAMED(VK_ERROR_NOT_PERMITTED_KHR),
    NAMED(VK_ERROR_FULL_SCREEN_EXCLUSIVE_MODE_LOST_EXT), NAMED(VK_THREAD_IDLE_KHR), NAMED(VK_THREAD_DONE_KHR),
    NAMED(VK_OPERATION_DEFERRED_KHR), NAMED(VK_OPERATION_NOT_DEFERRED_KHR), NAMED(VK_ERROR_COMPRESSION_EXHAUSTED_EXT),
};

static const struct { VkDriverId value; const char *name; } DRIVER_NAMES[] = {
    NAMED(VK_DRIVER_ID_AMD_PROPRIETARY), NAMED(VK_DRIVER_ID_AMD_OPEN_SOURCE), NAMED(VK_DRIVER_ID_MESA_RADV),
    NAMED(VK_DRIVER_ID_NVIDIA_PROPRIETARY), NAMED(VK_DRIVER_ID_INTEL_PROPRIETARY_WINDOWS),
    NAMED(VK_DRIVER_ID_INTEL_OPEN_SOURCE_MESA), NAMED(VK_DRIVER_ID_IMAGINATION_PROPRIETARY),
    NAMED(VK_DRIVER_ID_QUALCOMM_PROPRIETARY), NAMED(VK_DRIVER_ID_ARM_PROPRIETARY), NAMED(VK_DRIVER_ID_GOOGLE_SWIFTSHADER),
    NAMED(VK_DRIVER_ID_GGP_PROPRIETARY), NAMED(VK_DRIVER_ID_BROADCOM_PROPRIETARY), NAMED(VK_DRIVER_ID_MESA_LLVMPIPE),
    NAMED(VK_DRIVER_ID_MOLTENVK), NAMED(VK_DRIVER_ID_COREAVI_PROPRIETARY), NAMED(VK_DRIVER_ID_JUICE_PROPRIETARY),
    NAMED(VK_DRIVER_ID_VERISILICON_PROPRIETARY), NAMED(VK_DRIVER_ID_MESA_TURNIP), NAMED(VK_DRIVER_ID_MESA_V3DV),
    NAMED(VK_DRIVER_ID_MESA_PANVK), NAMED(VK_DRIVER_ID_SAMSUNG_PROPRIETARY), NAMED(VK_DRIVER_ID_MESA_VENUS),
    NAMED(VK_DRIVER_ID_MESA_DOZEN), NAMED(VK_DRIVER_ID_MESA_NVK), NAMED(VK_DRIVER_ID_IMAGINATION_OPEN_SOURCE_MESA),
};

/* An enum these headers do not name is shown as its number, as program.py shows an unknown driver id. */
static const char *number_text(int value)
{
    static char text[16];
    snprintf(text, sizeof text, "%d", value);
    return text;
}

static const char *result_name(VkResult result)
{
    for (size_t i = 0; i < sizeof RESULT_NAMES / sizeof *RESULT_NAMES; i++)
        if (RESULT_NAMES[i].value == result)
            return RESULT_NAMES[i].name;
    return number_text(result);
}

static const char *driver_id_name(VkDriverId id)
{
    for (size_t i = 0; i < sizeof DRIVER_NAMES / sizeof *DRIVER_NAMES; i++)
        if (DRIVER_NAMES[i].value == id)
            return DRIVER_NAMES[i].name;
    return number_text(id);
}

static double seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec + now.tv_nsec / 1e9;
}

/* Where program.py would stop with a traceback: one line on stderr, and the same exit status. */
static void fatal(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("venustui probe: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
    exit(EXIT_FAILED);
}

/* JSON output, formatted as Python's json.dumps formats it ------------------------------------------------ */

static bool first_key;

/* One code point of UTF-8 as Python decodes it; an invalid sequence gives UINT32_MAX and, in length, the bytes
 * one replacement stands for (the maximal subpart, as Python's decoder reports them). */
static uint32_t decode_utf8(const unsigned char *text, size_t *length)
{
    unsigned char lead = text[0], low = 0x80, high = 0xBF;
    size_t continuations;
    uint32_t code;
    if (lead < 0x80) {
        *length = 1;
        return lead;
    }
    if (lead >= 0xC2 && lead <= 0xDF) {
        continuations = 1;
        code = lead & 0x1F;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        continuations = 2;
        code = lead & 0x0F;
        low = lead == 0xE0 ? 0xA0 : 0x80;  /* no overlong forms */
        high = lead == 0xED ? 0x9F : 0xBF; /* no surrogates */
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        continuations = 3;
        code = lead & 0x07;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF; /* nothing past U+10FFFF */
    } else {
        *length = 1;
        return UINT32_MAX;
    }
    for (size_t i = 1; i <= continuations; i++) {
        if (text[i] < low || text[i] > high) { /* the terminating NUL stops here too */
            *length = i;
            return UINT32_MAX;
        }
        code = code << 6 | (text[i] & 0x3F);
        low = 0x80;
        high = 0xBF;
    }
    *length = continuations + 1;
    return code;
}

static void write_code_point(uint32_t code)
{
    static const char *const SHORT_ESCAPES[] = {['"'] = "\\\"", ['\\'] = "\\\\", ['\n'] = "\\n", ['\r'] = "\\r",
                                                ['\t'] = "\\t", ['\b'] = "\\b", ['\f'] = "\\f"};
    if (code < sizeof SHORT_ESCAPES / sizeof *SHORT_ESCAPES && SHORT_ESCAPES[code])
        fputs(SHORT_ESCAPES[code], stdout);
    else if (code >= 0x20 && code < 0x7F)
        putchar((int)code);
    else if (code < 0x10000)
        printf("\\u%04x", (unsigned)code);
    else
        printf("\\u%04x\\u%04x", (unsigned)(0xD800 + ((code - 0x10000) >> 10)),
               (unsigned)(0xDC00 + ((code - 0x10000) & 0x3FF)));
}

/* A string as json.dumps writes it (ASCII only). Text from the OS keeps undecodable bytes as Python's
 * surrogateescape does; text from a driver gets U+FFFD, as program.py's errors="replace". */
static void write_string(const char *text, bool from_driver)
{
    const unsigned char *at = (const unsigned char *)text;
    putchar('"');
    while (*at) {
        size_t length;
        uint32_t code = decode_utf8(at, &length);
        if (code != UINT32_MAX)
            write_code_point(code);
        else if (from_driver)
            write_code_point(0xFFFD);
        else
            for (size_t i = 0; i < length; i++)
                write_code_point(0xDC00 + at[i]);
        at += length;
    }
    putchar('"');
}

/* A float as Python's repr: the shortest digits that read back the same, in fixed notation from 1e-4 to 1e16. */
static void write_float(double value)
{
    if (value != value) {
        fputs("NaN", stdout);
        return;
    }
    if (value > 1.7976931348623157e308 || value < -1.7976931348623157e308) {
        fputs(value > 0 ? "Infinity" : "-Infinity", stdout);
        return;
    }
    char text[40];
    for (int precision = 0; precision <= 16; precision++) {
        snprintf(text, sizeof text, "%.*e", precision, value);
        if (strtod(text, NULL) == value)
            break;
    }
    char *exponent_at = strchr(text, 'e');
    int exponent = atoi(exponent_at + 1);
    char digits[20];
    size_t count = 0;
    for (const char *c = text; c < exponent_at; c++)
        if (isdigit((unsigned char)*c))
            digits[count++] = *c;
    while (count > 1 && digits[count - 1] == '0')
        count--;
    if (text[0] == '-')
        putchar('-');
    if (exponent < -4 || exponent >= 16) {
        printf("%c%s%.*se%c%02d", digits[0], count > 1 ? "." : "", (int)count - 1, digits + 1,
               exponent < 0 ? '-' : '+', abs(exponent));
    } else if (exponent < 0) {
        fputs("0.", stdout);
        for (int i = -1; i > exponent; i--)
            putchar('0');
        printf("%.*s", (int)count, digits);
    } else {
        for (int i = 0; i <= exponent; i++)
            putchar((size_t)i < count ? digits[i] : '0');
        putchar('.');
        if ((size_t)exponent + 1 < count)
            printf("%.*s", (int)(count - exponent - 1), digits + exponent + 1);
        else
            putchar('0');
    }
}

/* Python's round(value, digits): printf rounds the exact binary value half to even, as Python does. */
static double rounded(double value, int digits)
{
    char text[400];
    snprintf(text, sizeof text, "%.*f", digits, value);
    return strtod(text, NULL);
}

static long long rounded_to_integer(double value)
{
    char text[400];
    snprintf(text, sizeof text, "%.0f", value);
    return strtoll(text, NULL, 10);
}

static void open_event(void)
{
    putchar('{');
    first_key = true;
}

static void key(const char *name)
{
    printf("%s\"%s\": ", first_key ? "" : ", ", name);
    first_key = false;
}

static void put_text(const char *name, const char *text)
{
    key(name);
    write_string(text, false);
}

static void put_driver_text(const char *name, const char *text)
{
    key(name);
    write_string(text, true);
}

static void put_integer(const char *name, long long value)
{
    key(name);
    printf("%lld", value);
}

static void put_float(const char *name, double value)
{
    key(name);
    write_float(value);
}

static void put_optional_float(const char *name, bool present, double value)
{
    if (present)
        put_float(name, value);
    else {
        key(name);
        fputs("null", stdout);
    }
}

static void put_bool(const char *name, bool value)
{
    key(name);
    fputs(value ? "true" : "false", stdout);
}

static void put_hex(const char *name, uint64_t value)
{
    char text[24];
    snprintf(text, sizeof text, "0x%" PRIx64, value);
    put_text(name, text);
}

/* Every event ends with its name and a monotonic time, and is flushed at once: a hang must not lose it. */
static void close_event(const char *event)
{
    put_text("ev", event);
    put_float("mono", seconds());
    fputs("}\n", stdout);
    if (fflush(stdout) != 0)
        exit(EXIT_FAILED); /* nobody reads any more: program.py dies of the broken pipe too */
}

/* Options, parsed as program.py's argparse parser parses them --------------------------------------------- */

typedef struct {
    const char **phases; /* each "fence" or "map" */
    size_t phase_count;
    double deadline;
    bool watching;
    double watch;
    bool limited;
    long long rounds;
} Options;

static const char *const OPTION_NAMES[] = {"--help", "--phase", "--deadline", "--watch", "--rounds"};

static char *formatted(const char *format, ...)
{
    va_list args;
    char *text;
    va_start(args, format);
    if (vasprintf(&text, format, args) < 0)
        fatal("out of memory");
    va_end(args);
    return text;
}

static void usage_error(const char *format, ...)
{
    va_list args;
    va_start(args, format);
    fputs("venustui probe: ", stderr);
    vfprintf(stderr, format, args);
    fputs(" (see --help)\n", stderr);
    va_end(args);
    exit(EXIT_USAGE);
}

/* A value as Python's repr() shows a string in argparse's messages. */
static char *quoted(const char *text)
{
    char quote = strchr(text, '\'') && !strchr(text, '"') ? '"' : '\'';
    char *result;
    size_t size;
    FILE *out = open_memstream(&result, &size);
    fputc(quote, out);
    for (const unsigned char *c = (const unsigned char *)text; *c; c++) {
        if (*c == '\\' || *c == quote)
            fprintf(out, "\\%c", *c);
        else if (*c == '\n' || *c == '\r' || *c == '\t')
            fputs(*c == '\n' ? "\\n" : *c == '\r' ? "\\r" : "\\t", out);
        else if (*c < 0x20 || *c == 0x7F)
            fprintf(out, "\\x%02x", *c);
        else
            fputc(*c, out);
    }
    fputc(quote, out);
    fclose(out);
    return result;
}

/* The option an argument names (exactly, or by a prefix as argparse allows), with the value after "=", if any;
 * NULL when it names none. "-h" takes what follows it as its value, as argparse does. */
static const char *option_named(const char *arg, const char **explicit_value)
{
    *explicit_value = NULL;
    if (strncmp(arg, "-h", 2) == 0) {
        if (arg[2])
            *explicit_value = arg[2] == '=' ? arg + 3 : arg + 2;
        return "--help";
    }
    size_t length = strcspn(arg, "=");
    if (strncmp(arg, "--", 2) != 0 || length <= 2)
        return NULL;
    for (size_t i = 0; i < sizeof OPTION_NAMES / sizeof *OPTION_NAMES; i++) {
        if (strncmp(OPTION_NAMES[i], arg, length) == 0) { /* options differ in their first letter: one matches */
            if (arg[length] == '=')
                *explicit_value = arg + length + 1;
            return OPTION_NAMES[i];
        }
    }
    return NULL;
}

/* argparse's -N or -N.N or -.N, which it reads as a value, not an option */
static bool is_negative_number(const char *arg)
{
    if (arg[0] != '-')
        return false;
    size_t whole = strspn(arg + 1, "0123456789");
    const char *rest = arg + 1 + whole;
    if (!*rest)
        return whole > 0;
    size_t fraction = strspn(rest + 1, "0123456789");
    return *rest == '.' && fraction > 0 && !rest[1 + fraction];
}

/* Whether argparse would take an argument for an option rather than for a value. */
static bool looks_like_option(const char *arg)
{
    const char *ignored;
    if (arg[0] != '-' || !arg[1])
        return false;
    return option_named(arg, &ignored) || (!is_negative_number(arg) && !strchr(arg, ' '));
}

/* Python's int() and float() text: surrounding spaces, and single underscores between digits. Returns a copy
 * without them, or NULL where Python would refuse the underscores. */
static char *without_underscores(const char *text)
{
    while (isspace((unsigned char)*text))
        text++;
    char *copy = strdup(text);
    size_t length = strlen(copy);
    while (length && isspace((unsigned char)copy[length - 1]))
        copy[--length] = '\0';
    size_t kept = 0;
    for (size_t i = 0; i < length; i++) {
        if (copy[i] != '_') {
            copy[kept++] = copy[i];
            continue;
        }
        if (i == 0 || !isdigit((unsigned char)copy[i - 1]) || !isdigit((unsigned char)copy[i + 1])) {
            free(copy);
            return NULL;
        }
    }
    copy[kept] = '\0';
    return copy;
}

static double float_value(const char *option, const char *text)
{
    char *plain = without_underscores(text);
    char *end = NULL;
    double value = 0;
    /* strtod also reads hexadecimal and nan(...), which Python's float() refuses */
    if (plain && *plain && !strpbrk(plain, "xX("))
        value = strtod(plain, &end);
    if (!end || *end || end == plain)
        usage_error("argument %s: invalid float value: %s", option, quoted(text));
    free(plain);
    return value;
}

static long long int_value(const char *option, const char *text)
{
    char *plain = without_underscores(text);
    const char *digits = plain ? plain + (plain[0] == '+' || plain[0] == '-') : NULL;
    char *end = NULL;
    long long value = 0;
    if (digits && isdigit((unsigned char)*digits))
        value = strtoll(plain, &end, 10); /* past LLONG_MAX it saturates: rounds without end, as good as Python's */
    if (!end || *end)
        usage_error("argument %s: invalid int value: %s", option, quoted(text));
    free(plain);
    return value;
}

static void split_phases(const char *text, Options *options)
{
    char *unknown;
    size_t size;
    FILE *names = open_memstream(&unknown, &size);
    bool any_unknown = false;
    char *copy = strdup(text);
    options->phases = calloc(strlen(text) + 1, sizeof *options->phases); /* room for every comma-separated part */
    for (char *part = copy, *next; part; part = next) {
        next = strchr(part, ',');
        if (next)
            *next++ = '\0';
        while (isspace((unsigned char)*part))
            part++;
        size_t length = strlen(part);
        while (length && isspace((unsigned char)part[length - 1]))
            part[--length] = '\0';
        if (!length)
            continue;
        const char *known = strcmp(part, "fence") == 0 ? "fence" : strcmp(part, "map") == 0 ? "map" : NULL;
        if (known)
            options->phases[options->phase_count++] = known;
        else {
            fprintf(names, "%s%s", any_unknown ? ", " : "", part);
            any_unknown = true;
        }
    }
    fclose(names);
    if (any_unknown || !options->phase_count)
        usage_error("unknown phase %s: use fence, map or fence,map", any_unknown ? unknown : "(none)");
    free(unknown);
    free(copy);
}

static Options parse_options(int argc, char **argv)
{
    Options options = {.deadline = 5.0};
    const char *phase_text = "fence,map";
    char *extras; /* each unrecognized argument after a space */
    size_t size;
    FILE *unrecognized = open_memstream(&extras, &size);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0) { /* it and all after it are positional: this parser takes none */
            for (; i < argc; i++)
                fprintf(unrecognized, " %s", argv[i]);
            break;
        }
        const char *value;
        const char *option = option_named(argv[i], &value);
        if (!option) {
            fprintf(unrecognized, " %s", argv[i]);
            continue;
        }
        if (strcmp(option, "--help") == 0) {
            if (value)
                usage_error("argument -h/--help: ignored explicit argument %s", quoted(value));
            fputs(HELP, stdout);
            exit(EXIT_PASSED);
        }
        if (!value) {
            if (i + 1 >= argc || looks_like_option(argv[i + 1]))
                usage_error("argument %s: expected one argument", option);
            value = argv[++i];
        }
        if (strcmp(option, "--phase") == 0)
            phase_text = value;
        else if (strcmp(option, "--deadline") == 0)
            options.deadline = float_value(option, value);
        else if (strcmp(option, "--watch") == 0) {
            options.watch = float_value(option, value);
            options.watching = true;
        } else {
            options.rounds = int_value(option, value);
            options.limited = true;
        }
    }
    fclose(unrecognized);
    if (*extras)
        usage_error("unrecognized arguments: %s", extras + 1);
    free(extras);
    split_phases(phase_text, &options);
    return options;
}

/* Setup: the manifests the loader is pointed at, and the loader ------------------------------------------- */

static PFN_vkGetInstanceProcAddr get_instance_proc_addr;

/* The loader reads the first of the two variables that is set; a path in it that does not exist is the
 * usual mistake, and the loader would only say it found no driver. */
static char *missing_manifests(void)
{
    static const char *const VARIABLES[] = {"VK_DRIVER_FILES", "VK_ICD_FILENAMES"};
    for (size_t v = 0; v < sizeof VARIABLES / sizeof *VARIABLES; v++) {
        const char *value = getenv(VARIABLES[v]);
        if (!value || !*value)
            continue;
        char *message;
        size_t size;
        FILE *text = open_memstream(&message, &size);
        fprintf(text, "%s names ", VARIABLES[v]);
        bool any_missing = false;
        for (const char *path = value; *path;) {
            size_t length = strcspn(path, ":");
            char *one = strndup(path, length);
            struct stat info;
            if (length && stat(one, &info) != 0) {
                fprintf(text, "%s%s", any_missing ? ", " : "", one);
                any_missing = true;
            }
            free(one);
            path += length + (path[length] == ':');
        }
        fputs(", which does not exist: fix the path (VK_LOADER_DEBUG=error,driver shows what the loader searched)",
              text);
        fclose(text);
        if (any_missing)
            return message;
        free(message);
        return NULL;
    }
    return NULL;
}

static char *load_vulkan(void)
{
    const char *loader = getenv("VENUSTUI_VULKAN_LOADER");
    void *library;
    if (loader && *loader) {
        library = dlopen(loader, RTLD_NOW | RTLD_GLOBAL);
        if (!library)
            return formatted("no Vulkan loader at %s (%s); fix VENUSTUI_VULKAN_LOADER", loader, dlerror());
    } else {
        loader = "libvulkan.so.1";
        library = dlopen(loader, RTLD_NOW);
        if (!library)
            return formatted("no Vulkan loader (libvulkan.so.1) found: install libvulkan1 "
                             "(or point VENUSTUI_VULKAN_LOADER at one)");
    }
    get_instance_proc_addr = (PFN_vkGetInstanceProcAddr)dlsym(library, "vkGetInstanceProcAddr");
    if (!get_instance_proc_addr)
        return formatted("%s has no vkGetInstanceProcAddr: it is not a Vulkan loader", loader);
    return NULL;
}

/* The probe ------------------------------------------------------------------------------------------------- */

typedef struct {
    const char *phase;
    double deadline;
    VkInstance instance;
    VkPhysicalDevice physical;
    VkDevice device;
    VkQueue queue;
    PFN_vkGetDeviceProcAddr get_device_proc_addr;
    uint32_t api_version;
    uint32_t family;
    uint32_t memory_type;
    const char *queue_via;
    const char *failed_step; /* why the phase ended early */
    VkResult failed_result;
} Probe;

#define HANDLE(handle) ((uint64_t)(uintptr_t)(handle)) /* as program.py casts handles to uintptr_t */
#define INSTANCE_CALL(probe, name) ((PFN_##name)instance_proc(probe, #name))
#define DEVICE_CALL(probe, name) ((PFN_##name)device_proc(probe, #name))

static PFN_vkVoidFunction instance_proc(Probe *probe, const char *name)
{
    PFN_vkVoidFunction function = get_instance_proc_addr(probe->instance, name);
    if (!function)
        fatal("vkGetInstanceProcAddr gave no %s", name);
    return function;
}

static PFN_vkVoidFunction device_proc(Probe *probe, const char *name)
{
    PFN_vkVoidFunction function = probe->get_device_proc_addr(probe->device, name);
    if (!function)
        fatal("vkGetDeviceProcAddr gave no %s", name);
    return function;
}

static void check(VkResult result, const char *call)
{
    if (result != VK_SUCCESS)
        fatal("%s: %s", call, result_name(result));
}

static bool abort_phase(Probe *probe, const char *step, VkResult result)
{
    probe->failed_step = step;
    probe->failed_result = result;
    return false;
}

/* Every step is announced before it starts, so whoever reads the stream knows which call hung. */
static double step_begin(Probe *probe, const char *step)
{
    open_event();
    put_text("phase", probe->phase);
    put_text("step", step);
    close_event("begin");
    return seconds();
}

typedef void Describe(Probe *probe, uint64_t handle);

/* The step's result and time, and on success what describe adds; false (the phase ends) unless it succeeded
 * or is not ready yet. */
static bool step_end(Probe *probe, const char *step, double start, VkResult result, Describe *describe,
                     uint64_t handle)
{
    double ms = (seconds() - start) * 1000;
    open_event();
    put_text("phase", probe->phase);
    put_text("step", step);
    put_text("result", result_name(result));
    put_float("ms", rounded(ms, 4));
    if (describe && result == VK_SUCCESS)
        describe(probe, handle);
    close_event("step");
    return result == VK_SUCCESS || result == VK_NOT_READY || abort_phase(probe, step, result);
}

static void describe_handle(Probe *probe, uint64_t handle)
{
    (void)probe;
    put_hex("handle", handle);
}

static void describe_physical(Probe *probe, uint64_t handle)
{
    VkPhysicalDevice physical = (VkPhysicalDevice)(uintptr_t)handle;
    VkPhysicalDeviceProperties props;
    INSTANCE_CALL(probe, vkGetPhysicalDeviceProperties)(physical, &props);
    probe->api_version = props.apiVersion;
    char version[40];
    snprintf(version, sizeof version, "%u.%u.%u", props.apiVersion >> 22, (props.apiVersion >> 12) & 0x3FF,
             props.apiVersion & 0xFFF);
    put_driver_text("name", props.deviceName);
    put_text("api_version", version);
    put_hex("vendor_id", props.vendorID);
    put_hex("device_id", props.deviceID);
    if (props.apiVersion >= VK_MAKE_API_VERSION(0, 1, 2, 0)) {
        VkPhysicalDeviceDriverProperties driver = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
        VkPhysicalDeviceProperties2 props2 = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2, .pNext = &driver};
        INSTANCE_CALL(probe, vkGetPhysicalDeviceProperties2)(physical, &props2);
        put_text("driver_id", driver_id_name(driver.driverID));
        put_driver_text("driver_name", driver.driverName);
        put_driver_text("driver_info", driver.driverInfo);
    }
}

static void describe_device(Probe *probe, uint64_t handle)
{
    put_hex("handle", handle);
    put_integer("queue_family", probe->family);
}

static void describe_queue(Probe *probe, uint64_t handle)
{
    put_hex("handle", handle);
    put_text("via", probe->queue_via);
}

static void describe_memory(Probe *probe, uint64_t handle)
{
    put_integer("memory_type", probe->memory_type);
    put_hex("handle", handle);
}

static VkResult pick_physical(Probe *probe)
{
    PFN_vkEnumeratePhysicalDevices enumerate = INSTANCE_CALL(probe, vkEnumeratePhysicalDevices);
    uint32_t count = 0;
    VkResult result = enumerate(probe->instance, &count, NULL);
    if (result != VK_SUCCESS)
        return result;
    VkPhysicalDevice *devices = calloc(count + 1, sizeof *devices); /* never NULL: this call fills, not counts */
    result = enumerate(probe->instance, &count, devices);
    if (result == VK_SUCCESS && count == 0)
        result = VK_ERROR_INITIALIZATION_FAILED;
    if (result == VK_SUCCESS)
        probe->physical = devices[0];
    free(devices);
    return result;
}

/* Venus attaches feedback only on families with graphics, compute or transfer. */
static uint32_t feedback_family(Probe *probe)
{
    PFN_vkGetPhysicalDeviceQueueFamilyProperties get = INSTANCE_CALL(probe, vkGetPhysicalDeviceQueueFamilyProperties);
    uint32_t count = 0, chosen = 0;
    get(probe->physical, &count, NULL);
    VkQueueFamilyProperties *families = calloc(count + 1, sizeof *families);
    get(probe->physical, &count, families);
    for (uint32_t i = 0; i < count; i++) {
        if (families[i].queueFlags & (VK_QUEUE_GRAPHICS_BIT | VK_QUEUE_COMPUTE_BIT | VK_QUEUE_TRANSFER_BIT)) {
            chosen = i;
            break;
        }
    }
    free(families);
    return chosen;
}

static bool open_device(Probe *probe)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO, .pApplicationName = "venustui-probe",
                             .applicationVersion = 1, .pEngineName = "venustui", .engineVersion = 1,
                             .apiVersion = VK_MAKE_API_VERSION(0, 1, 2, 0)};
    VkInstanceCreateInfo instance_info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO, .pApplicationInfo = &app};
    PFN_vkCreateInstance create_instance = INSTANCE_CALL(probe, vkCreateInstance); /* instance is still NULL */
    double start = step_begin(probe, "instance");
    VkResult result = create_instance(&instance_info, NULL, &probe->instance);
    if (!step_end(probe, "instance", start, result, NULL, 0))
        return false;

    start = step_begin(probe, "physdev");
    result = pick_physical(probe);
    if (!step_end(probe, "physdev", start, result, describe_physical, HANDLE(probe->physical)))
        return false;

    probe->family = feedback_family(probe);
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue_info = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                          .queueFamilyIndex = probe->family, .queueCount = 1,
                                          .pQueuePriorities = &priority};
    VkDeviceCreateInfo device_info = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO, .queueCreateInfoCount = 1,
                                      .pQueueCreateInfos = &queue_info};
    PFN_vkCreateDevice create_device = INSTANCE_CALL(probe, vkCreateDevice);
    probe->get_device_proc_addr = INSTANCE_CALL(probe, vkGetDeviceProcAddr);
    start = step_begin(probe, "device");
    result = create_device(probe->physical, &device_info, NULL, &probe->device);
    if (!step_end(probe, "device", start, result, describe_device, HANDLE(probe->device)))
        return false;

    if (probe->api_version >= VK_MAKE_API_VERSION(0, 1, 1, 0)) {
        PFN_vkGetDeviceQueue2 get_queue = DEVICE_CALL(probe, vkGetDeviceQueue2);
        VkDeviceQueueInfo2 info = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_INFO_2, .queueFamilyIndex = probe->family};
        probe->queue_via = "vkGetDeviceQueue2";
        start = step_begin(probe, "queue");
        get_queue(probe->device, &info, &probe->queue);
    } else {
        PFN_vkGetDeviceQueue get_queue = DEVICE_CALL(probe, vkGetDeviceQueue);
        probe->queue_via = "vkGetDeviceQueue";
        start = step_begin(probe, "queue");
        get_queue(probe->device, probe->family, 0, &probe->queue);
    }
    return step_end(probe, "queue", start, VK_SUCCESS, describe_queue, HANDLE(probe->queue));
}

static bool create_fence(Probe *probe, VkFence *fence)
{
    PFN_vkCreateFence create = DEVICE_CALL(probe, vkCreateFence);
    VkFenceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    double start = step_begin(probe, "fence");
    VkResult result = create(probe->device, &info, NULL, fence);
    return step_end(probe, "fence", start, result, describe_handle, HANDLE(*fence));
}

typedef struct {
    bool reached;
    long long polls;
    double ms;
} Wait;

/* Polls the fence's status until it is `until` or limit seconds pass, reading the clock every 256 polls. */
static Wait poll_fence(Probe *probe, VkFence fence, VkResult until, double limit)
{
    PFN_vkGetFenceStatus status = DEVICE_CALL(probe, vkGetFenceStatus);
    Wait wait = {0};
    double start = seconds(), end = start + limit;
    for (;;) {
        wait.polls++;
        if (status(probe->device, fence) == until) {
            wait.reached = true;
            break;
        }
        if ((wait.polls & 0xFF) == 0 && seconds() > end)
            break;
    }
    wait.ms = (seconds() - start) * 1000;
    return wait;
}

/* Status polls per second on a signaled fence: the probe's loop, and a bare loop beside it. */
static void poll_rates(Probe *probe, VkFence fence)
{
    PFN_vkGetFenceStatus status = DEVICE_CALL(probe, vkGetFenceStatus);
    Wait timed = poll_fence(probe, fence, NEVER_A_STATUS, 0.3);
    double ours = timed.polls / (timed.ms / 1000);
    long long count = 0;
    double start = seconds();
    /* At most 100k polls or 0.3 s: a status that is a host round trip (Mesa 26.2) runs ~17k/s. */
    while (count < 100000 && (count % 1024 || seconds() - start < 0.3)) {
        status(probe->device, fence);
        count++;
    }
    double bare = count / (seconds() - start);
    open_event();
    put_text("phase", probe->phase);
    put_text("name", "poll_rate");
    put_integer("polls_per_s", rounded_to_integer(ours));
    put_integer("bare_polls_per_s", rounded_to_integer(bare));
    put_float("ratio", rounded(ours / bare, 3));
    close_event("metric");
}

static void sleep_seconds(double interval)
{
    if (!(interval >= 0 && interval < 1e9)) /* where program.py's time.sleep raises */
        fatal("--watch %g is not a number of seconds to sleep", interval);
    struct timespec left = {(time_t)interval, (long)((interval - (time_t)interval) * 1e9)};
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        ;
}

static uint32_t read_slot(const volatile uint8_t *slot)
{
    return slot[0] | (uint32_t)slot[1] << 8 | (uint32_t)slot[2] << 16 | (uint32_t)slot[3] << 24;
}

static void write_slot(volatile uint8_t *slot, uint32_t value)
{
    for (int i = 0; i < 4; i++)
        slot[i] = (uint8_t)(value >> (8 * i));
}

/* Submits the fill and polls the fence status and the mapped slot side by side until both signal: the first
 * time as the "poll" step, later as samples. */
static bool submit_and_poll(Probe *probe, VkCommandBuffer command, VkFence fence, volatile uint8_t *slot, bool first)
{
    PFN_vkQueueSubmit submit = DEVICE_CALL(probe, vkQueueSubmit);
    PFN_vkGetFenceStatus status = DEVICE_CALL(probe, vkGetFenceStatus);
    VkSubmitInfo info = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO, .commandBufferCount = 1, .pCommandBuffers = &command};
    if (first) {
        double start = step_begin(probe, "submit");
        if (!step_end(probe, "submit", start, submit(probe->queue, 1, &info, fence), NULL, 0))
            return false;
    } else {
        check(submit(probe->queue, 1, &info, fence), "vkQueueSubmit");
    }
    double start = seconds(), fence_at = 0, slot_at = 0;
    bool fence_signaled = false, slot_written = false;
    long long polls = 0;
    open_event();
    put_text("phase", probe->phase);
    put_text("step", "poll");
    close_event("begin");
    while (seconds() - start < probe->deadline) {
        polls++;
        double now = (seconds() - start) * 1000;
        if (!fence_signaled && status(probe->device, fence) == VK_SUCCESS) {
            fence_signaled = true;
            fence_at = now;
        }
        if (!slot_written && read_slot(slot) == SLOT_SUCCESS) {
            slot_written = true;
            slot_at = now;
        }
        if (fence_signaled && slot_written)
            break;
    }
    const char *disagreement = "";
    if (fence_signaled && !slot_written)
        disagreement = "fence signaled but the slot never changed";
    else if (slot_written && !fence_signaled)
        disagreement = "slot written but the fence never signaled";
    bool both = fence_signaled && slot_written;
    open_event();
    put_text("phase", probe->phase);
    put_text("step", "poll");
    put_text("result", both ? "VK_SUCCESS" : "VK_TIMEOUT");
    put_float("ms", rounded((seconds() - start) * 1000, 4));
    put_integer("polls", polls);
    put_optional_float("fence_ms", fence_signaled, rounded(fence_at, 4));
    put_optional_float("slot_ms", slot_written, rounded(slot_at, 4));
    put_text("disagreement", disagreement);
    close_event(first ? "step" : "sample");
    return !first || both || abort_phase(probe, "poll", VK_TIMEOUT);
}

/* Resubmits every interval and streams what the fence (and, with a slot, the slot) does: for a screen to
 * follow live. */
static void watch(Probe *probe, VkFence fence, VkCommandBuffer command, volatile uint8_t *slot,
                  const Options *options)
{
    PFN_vkResetFences reset = DEVICE_CALL(probe, vkResetFences);
    PFN_vkQueueSubmit submit = DEVICE_CALL(probe, vkQueueSubmit);
    for (long long done = 0; !options->limited || done < options->rounds; done++) {
        sleep_seconds(options->watch);
        check(reset(probe->device, 1, &fence), "vkResetFences");
        if (slot) {
            write_slot(slot, SLOT_NOT_READY);
            submit_and_poll(probe, command, fence, slot, false);
            continue;
        }
        check(submit(probe->queue, 0, NULL, fence), "vkQueueSubmit");
        Wait wait = poll_fence(probe, fence, VK_SUCCESS, probe->deadline);
        open_event();
        put_text("phase", probe->phase);
        put_text("step", "poll");
        put_text("result", wait.reached ? "VK_SUCCESS" : "VK_TIMEOUT");
        put_integer("polls", wait.polls);
        put_optional_float("fence_ms", wait.reached, rounded(wait.ms, 4));
        close_event("sample");
    }
}

static bool should_watch(const Options *options)
{
    return options->watching && options->watch != 0; /* as Python's truth: NaN and negatives watch */
}

static void phase_passed(Probe *probe)
{
    open_event();
    put_text("phase", probe->phase);
    put_text("outcome", "passed");
    close_event("phase");
}

/* instance, physical device, device, queue, fence, an empty submit with the fence, status, wait; then how many
 * status polls it took to signal and how fast polling runs. */
static bool fence_phase(Probe *probe, const Options *options)
{
    probe->phase = "fence";
    VkFence fence = VK_NULL_HANDLE;
    if (!open_device(probe) || !create_fence(probe, &fence))
        return false;
    PFN_vkQueueSubmit submit = DEVICE_CALL(probe, vkQueueSubmit);
    double start = step_begin(probe, "submit");
    if (!step_end(probe, "submit", start, submit(probe->queue, 0, NULL, fence), NULL, 0))
        return false;
    PFN_vkGetFenceStatus status = DEVICE_CALL(probe, vkGetFenceStatus);
    start = step_begin(probe, "status");
    if (!step_end(probe, "status", start, status(probe->device, fence), NULL, 0))
        return false;

    Wait wait = poll_fence(probe, fence, VK_SUCCESS, probe->deadline);
    open_event();
    put_text("phase", probe->phase);
    put_text("name", "polls_until_signaled");
    put_integer("polls", wait.polls);
    put_float("ms", rounded(wait.ms, 4));
    put_bool("signaled", wait.reached);
    close_event("metric");

    PFN_vkWaitForFences wait_for_fences = DEVICE_CALL(probe, vkWaitForFences);
    start = step_begin(probe, "wait");
    double timeout_ns = probe->deadline * 1e9;
    if (!(timeout_ns > -1 && timeout_ns < 18446744073709551616.0)) /* program.py's int() overflows the uint64 */
        fatal("--deadline %g does not fit vkWaitForFences's timeout", probe->deadline);
    VkResult result = wait_for_fences(probe->device, 1, &fence, VK_TRUE, timeout_ns < 1 ? 0 : (uint64_t)timeout_ns);
    if (!step_end(probe, "wait", start, result, NULL, 0))
        return false;
    poll_rates(probe, fence);
    phase_passed(probe);
    if (should_watch(options))
        watch(probe, fence, VK_NULL_HANDLE, NULL, options);
    return true;
}

/* Barrier (all commands -> transfer), fill 4 bytes of VK_SUCCESS, barrier (transfer -> host): as Venus's
 * feedback commands do. */
static VkResult record_fill(Probe *probe, VkCommandBuffer command, VkBuffer buffer)
{
    PFN_vkBeginCommandBuffer begin = DEVICE_CALL(probe, vkBeginCommandBuffer);
    PFN_vkCmdPipelineBarrier barrier = DEVICE_CALL(probe, vkCmdPipelineBarrier);
    PFN_vkCmdFillBuffer fill = DEVICE_CALL(probe, vkCmdFillBuffer);
    PFN_vkEndCommandBuffer end = DEVICE_CALL(probe, vkEndCommandBuffer);
    VkCommandBufferBeginInfo begin_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    VkResult result = begin(command, &begin_info);
    if (result != VK_SUCCESS)
        return result;
    VkMemoryBarrier before = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_MEMORY_WRITE_BIT,
                              .dstAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT};
    barrier(command, VK_PIPELINE_STAGE_ALL_COMMANDS_BIT, VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &before, 0, NULL, 0,
            NULL);
    fill(command, buffer, 0, 4, SLOT_SUCCESS);
    VkMemoryBarrier after = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER, .srcAccessMask = VK_ACCESS_TRANSFER_WRITE_BIT,
                             .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    barrier(command, VK_PIPELINE_STAGE_TRANSFER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0, 1, &after, 0, NULL, 0, NULL);
    return end(command);
}

/* A HOST_VISIBLE+HOST_COHERENT memory type the buffer can live in, or UINT32_MAX. */
static uint32_t host_coherent_type(Probe *probe, uint32_t allowed_types)
{
    VkPhysicalDeviceMemoryProperties props;
    INSTANCE_CALL(probe, vkGetPhysicalDeviceMemoryProperties)(probe->physical, &props);
    VkMemoryPropertyFlags wanted = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    for (uint32_t i = 0; i < props.memoryTypeCount; i++)
        if ((allowed_types & (1u << i)) && (props.memoryTypes[i].propertyFlags & wanted) == wanted)
            return i;
    return UINT32_MAX;
}

/* The feedback mechanism by hand: a host-visible, coherent buffer as a slot, a command buffer that fills it
 * with VK_SUCCESS, a submit with a fence, then the fence status and the slot polled side by side. */
static bool map_phase(Probe *probe, const Options *options)
{
    probe->phase = "map";
    if (!open_device(probe))
        return false;
    VkBufferCreateInfo buffer_info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO, .size = SLOT_BUFFER_SIZE,
                                      .usage = VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                                      .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkBuffer buffer = VK_NULL_HANDLE;
    PFN_vkCreateBuffer create_buffer = DEVICE_CALL(probe, vkCreateBuffer);
    double start = step_begin(probe, "buffer");
    if (!step_end(probe, "buffer", start, create_buffer(probe->device, &buffer_info, NULL, &buffer), NULL, 0))
        return false;

    VkMemoryRequirements needs;
    DEVICE_CALL(probe, vkGetBufferMemoryRequirements)(probe->device, buffer, &needs);
    probe->memory_type = host_coherent_type(probe, needs.memoryTypeBits);
    if (probe->memory_type == UINT32_MAX) {
        open_event();
        put_text("phase", probe->phase);
        put_text("step", "alloc");
        put_text("result", "VK_ERROR_FEATURE_NOT_PRESENT");
        put_float("ms", 0.0);
        put_text("note", "no HOST_VISIBLE+HOST_COHERENT memory type");
        close_event("step");
        return abort_phase(probe, "alloc", VK_ERROR_FEATURE_NOT_PRESENT);
    }
    VkMemoryAllocateInfo alloc_info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                       .allocationSize = needs.size, .memoryTypeIndex = probe->memory_type};
    VkDeviceMemory memory = VK_NULL_HANDLE;
    PFN_vkAllocateMemory allocate = DEVICE_CALL(probe, vkAllocateMemory);
    start = step_begin(probe, "alloc");
    VkResult result = allocate(probe->device, &alloc_info, NULL, &memory); /* before HANDLE(memory) reads it */
    if (!step_end(probe, "alloc", start, result, describe_memory, HANDLE(memory)))
        return false;
    PFN_vkBindBufferMemory bind = DEVICE_CALL(probe, vkBindBufferMemory);
    start = step_begin(probe, "bind");
    if (!step_end(probe, "bind", start, bind(probe->device, buffer, memory, 0), NULL, 0))
        return false;
    void *mapped = NULL;
    PFN_vkMapMemory map = DEVICE_CALL(probe, vkMapMemory);
    start = step_begin(probe, "map");
    if (!step_end(probe, "map", start, map(probe->device, memory, 0, SLOT_BUFFER_SIZE, 0, &mapped), NULL, 0))
        return false;
    volatile uint8_t *slot = mapped;
    write_slot(slot, SLOT_NOT_READY);

    VkCommandPoolCreateInfo pool_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                         .flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT,
                                         .queueFamilyIndex = probe->family};
    VkCommandPool pool = VK_NULL_HANDLE;
    PFN_vkCreateCommandPool create_pool = DEVICE_CALL(probe, vkCreateCommandPool);
    start = step_begin(probe, "command_pool");
    if (!step_end(probe, "command_pool", start, create_pool(probe->device, &pool_info, NULL, &pool), NULL, 0))
        return false;
    VkCommandBufferAllocateInfo command_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                                .commandPool = pool, .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                                .commandBufferCount = 1};
    VkCommandBuffer command = VK_NULL_HANDLE;
    PFN_vkAllocateCommandBuffers allocate_commands = DEVICE_CALL(probe, vkAllocateCommandBuffers);
    start = step_begin(probe, "command_buffer");
    if (!step_end(probe, "command_buffer", start, allocate_commands(probe->device, &command_info, &command), NULL, 0))
        return false;
    start = step_begin(probe, "record");
    if (!step_end(probe, "record", start, record_fill(probe, command, buffer), NULL, 0))
        return false;
    VkFence fence = VK_NULL_HANDLE;
    if (!create_fence(probe, &fence) || !submit_and_poll(probe, command, fence, slot, true))
        return false;
    phase_passed(probe);
    if (should_watch(options))
        watch(probe, fence, command, slot, options);
    return true;
}

/* main ------------------------------------------------------------------------------------------------------ */

static void setup_error(const char *message)
{
    open_event();
    put_text("message", message);
    close_event("error");
    fprintf(stderr, "venustui probe: %s\n", message);
}

int main(int argc, char **argv)
{
    static const char *const REPORTED_ENV[] = {"VN_PERF", "VN_DEBUG", "VK_DRIVER_FILES", "VK_ICD_FILENAMES",
                                               "VTEST_SOCKET_NAME"};
    static char line_buffer[1 << 16]; /* whole lines reach the pipe: a reader never sees half an event */
    setvbuf(stdout, line_buffer, _IOFBF, sizeof line_buffer);
    signal(SIGPIPE, SIG_IGN); /* a reader that goes away ends the probe with a status, as in Python, not a signal */
    Options options = parse_options(argc, argv);

    open_event();
    put_integer("pid", getpid());
    key("phases");
    for (size_t i = 0; i < options.phase_count; i++) {
        fputs(i ? ", " : "[", stdout);
        write_string(options.phases[i], false);
    }
    putchar(']');
    key("env");
    bool first_variable = true;
    for (size_t i = 0; i < sizeof REPORTED_ENV / sizeof *REPORTED_ENV; i++) {
        const char *value = getenv(REPORTED_ENV[i]);
        if (!value)
            continue;
        fputs(first_variable ? "{" : ", ", stdout);
        write_string(REPORTED_ENV[i], false);
        fputs(": ", stdout);
        write_string(value, false);
        first_variable = false;
    }
    fputs(first_variable ? "{}" : "}", stdout);
    close_event("probe");

    char *problem = missing_manifests();
    if (!problem)
        problem = load_vulkan();
    if (problem) {
        setup_error(problem);
        return EXIT_SETUP;
    }
    bool failed = false;
    for (size_t i = 0; i < options.phase_count; i++) {
        Probe probe = {.deadline = options.deadline};
        bool fence = strcmp(options.phases[i], "fence") == 0;
        if (fence ? fence_phase(&probe, &options) : map_phase(&probe, &options))
            continue;
        open_event();
        put_text("phase", options.phases[i]);
        put_text("outcome", "failed");
        put_text("step", probe.failed_step);
        put_text("result", result_name(probe.failed_result));
        close_event("phase");
        failed = true;
        if (strcmp(probe.failed_step, "instance") == 0 && probe.failed_result == VK_ERROR_INCOMPATIBLE_DRIVER) {
            setup_error("the loader found no usable Vulkan driver: check VK_DRIVER_FILES / VK_ICD_FILENAMES "
                        "(VK_LOADER_DEBUG=error,driver shows why a driver was dropped)");
            return EXIT_SETUP;
        }
    }
    return failed ? EXIT_FAILED : EXIT_PASSED;
}

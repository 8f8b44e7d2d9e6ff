/*
 * instruction_counter.c — exact executed-instruction counts for Keel benchmarks.
 *
 * Why C: QEMU loads TCG plugins with dlopen() into its own process and talks to
 * them through a C ABI with C callbacks and its own headers' types; a Swift shared
 * library would drag its runtime into QEMU's process for ~100 lines of counting.
 * QEMU 7.2 (Debian) ships no qemu-plugin.h, so the handful of API declarations
 * used below are copied from include/qemu/qemu-plugin.h (QEMU_PLUGIN_VERSION 1).
 *
 * Arguments (e.g. -plugin /path/instruction_counter.so,start=0x100,stop=0x120,out=/tmp/c.txt):
 *   start=ADDR  instruction that opens a measurement window; up to MAX_STARTS of them
 *               (e.g. a marker function and an interrupt handler's first instruction)
 *   stop=ADDR   instruction that closes it
 *   masking=1   watch the instructions that mask interrupts (MSR BASEPRI_MAX, CPSID i)
 *               and restore them (MSR BASEPRI, MSR PRIMASK, CPSIE i), wherever they are:
 *               the kernel's masking is inline. Nesting counted; the longest run from
 *               depth 0 back to 0 is written as " longest_masked=N masked_sections=N"
 *   mask_from=ADDR  masked sections count only from the first time that instruction runs
 *               (a task's entry: the boot code's sections left out)
 *   entry=ADDR  an exception handler's first instruction; up to MAX_ENTRIES of them. Each time
 *               one runs inside an open window counts as an exception taken, written as
 *               " entries=N" (the vector table's handlers: interrupts taken in the window)
 *   out=PATH    file written at exit: "windows=N counted=N total=N each=C1,C2,...\n"
 * Addresses may be given with the Thumb bit set; bit 0 is ignored.
 *
 * Semantics: every executed guest instruction adds 1 to `count`. A window runs
 * from the start instruction (included) up to the stop instruction (excluded);
 * `counted` sums all closed windows, `windows` is how many closed, `total` is
 * every instruction executed by the guest. A stop with no open window is ignored;
 * a second start re-opens (restarts) the window. `each` lists the closed windows'
 * counts in the order they closed (the first MAX_EACH of them), so one run can
 * measure several things: a bench image opens one window per measured shape.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Subset of QEMU 7.2 include/qemu/qemu-plugin.h ---------------------- */
#define QEMU_PLUGIN_EXPORT __attribute__((visibility("default")))
typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t {
    const char *target_name;
    struct { int min; int cur; } version;
    bool system_emulation;
    union { struct { int smp_vcpus; int max_vcpus; } system; };
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn, enum qemu_plugin_op op,
                                                void *ptr, uint64_t imm);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);
/* ------------------------------------------------------------------------- */

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

/* Single-core targets only (mps2-an385): plain, non-atomic counters. */
static uint64_t count;      /* every executed instruction */
static uint64_t snapshot;   /* `count` when the open window started */
static bool     open_window;
static uint64_t counted;    /* sum of closed windows */
static uint64_t windows;    /* number of closed windows */
#define MAX_STARTS 4
/* Masked sections: a masking instruction raises a nesting depth, a restoring one lowers it; a
 * section runs from the mask that takes the depth from 0 to the restore that brings it back. */
static bool     watch_masking;
static uint64_t depth, section_start, longest_section, sections;
static uint64_t mask_from_addr = UINT64_MAX;
static bool     masking_live = true; /* false until mask_from's instruction runs */
#define MAX_ENTRIES 64
static uint64_t entry_addrs[MAX_ENTRIES];
static int      entry_count;
static uint64_t entries;  /* entry instructions run inside open windows */
#define MAX_EACH 4096
static uint64_t start_addrs[MAX_STARTS];
static int      starts;
static uint64_t stop_addr = UINT64_MAX;
static uint64_t each[MAX_EACH]; /* each closed window's count, in order */
static const char *out_path;

/* The marker instructions get a callback instead of the inline add and bump
 * `count` themselves, so "start included, stop excluded" does not depend on
 * the order QEMU runs an instruction's callbacks and inline ops in. */
static void on_start(unsigned int vcpu, void *udata)
{
    (void)vcpu; (void)udata;
    snapshot = count;
    open_window = true;
    count++;
}

static void on_stop(unsigned int vcpu, void *udata)
{
    (void)vcpu; (void)udata;
    if (open_window) {
        counted += count - snapshot;
        if (windows < MAX_EACH) each[windows] = count - snapshot;
        windows++;
        open_window = false;
    }
    count++;
}

static void on_entry(unsigned int vcpu, void *udata)
{
    (void)vcpu; (void)udata;
    if (open_window) entries++;
    count++;
}

static void on_mask(unsigned int vcpu, void *udata)
{
    (void)vcpu; (void)udata;
    if (masking_live && depth++ == 0) section_start = count;
    count++;
}

static void on_mask_from(unsigned int vcpu, void *udata)
{
    (void)vcpu; (void)udata;
    masking_live = true;
    count++;
}

static void on_unmask(unsigned int vcpu, void *udata)
{
    (void)vcpu; (void)udata;
    if (depth > 0 && --depth == 0) {
        uint64_t length = count - section_start;
        if (length > longest_section) longest_section = length;
        sections++;
    }
    count++;
}

/* Thumb encodings: MSR<c> SYSm, Rn is F38n 88xx (SYSm 0x12 BASEPRI_MAX, 0x11 BASEPRI,
 * 0x10 PRIMASK); CPSID i is B672, CPSIE i is B662. +1 masks, -1 restores, 0 neither. */
static int masking_effect(struct qemu_plugin_insn *insn)
{
    const uint8_t *b = qemu_plugin_insn_data(insn);
    size_t size = qemu_plugin_insn_size(insn);
    uint16_t first = (uint16_t)(b[0] | b[1] << 8);
    if (size == 2) return first == 0xB672 ? 1 : first == 0xB662 ? -1 : 0;
    if (size != 4 || (first & 0xFFF0) != 0xF380) return 0;
    uint16_t second = (uint16_t)(b[2] | b[3] << 8);
    if (second == 0x8812) return 1;
    if (second == 0x8811 || second == 0x8810) return -1;
    return 0;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    (void)id;
    size_t n = qemu_plugin_tb_n_insns(tb);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
        uint64_t pc = qemu_plugin_insn_vaddr(insn);
        int masking = watch_masking ? masking_effect(insn) : 0;
        bool is_start = false;
        for (int s = 0; s < starts; s++) is_start |= pc == start_addrs[s];
        bool is_entry = false;
        for (int e = 0; e < entry_count; e++) is_entry |= pc == entry_addrs[e];
        if (is_start) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_start, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else if (pc == stop_addr) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_stop, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else if (is_entry && masking == 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_entry, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else if (pc == mask_from_addr && masking == 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mask_from, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else if (masking > 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mask, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else if (masking < 0) {
            qemu_plugin_register_vcpu_insn_exec_cb(insn, on_unmask, QEMU_PLUGIN_CB_NO_REGS, NULL);
        } else {
            qemu_plugin_register_vcpu_insn_exec_inline(insn, QEMU_PLUGIN_INLINE_ADD_U64, &count, 1);
        }
    }
}

static void write_results(qemu_plugin_id_t id, void *udata)
{
    (void)id; (void)udata;
    FILE *f = fopen(out_path, "w");
    if (f == NULL) {
        fprintf(stderr, "instruction_counter: cannot write %s\n", out_path);
        return;
    }
    fprintf(f, "windows=%" PRIu64 " counted=%" PRIu64 " total=%" PRIu64 " each=", windows, counted, count);
    for (uint64_t i = 0; i < windows && i < MAX_EACH; i++) {
        fprintf(f, i == 0 ? "%" PRIu64 : ",%" PRIu64, each[i]);
    }
    if (entry_count > 0) fprintf(f, " entries=%" PRIu64, entries);
    if (watch_masking) fprintf(f, " longest_masked=%" PRIu64 " masked_sections=%" PRIu64, longest_section, sections);
    fprintf(f, "\n");
    fclose(f);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)info;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "start=", 6) == 0) {
            if (starts == MAX_STARTS) {
                fprintf(stderr, "instruction_counter: more than %d start= addresses\n", MAX_STARTS);
                return -1;
            }
            start_addrs[starts++] = strtoull(a + 6, NULL, 0) & ~(uint64_t)1;
        } else if (strncmp(a, "stop=", 5) == 0) {
            stop_addr = strtoull(a + 5, NULL, 0) & ~(uint64_t)1;
        } else if (strncmp(a, "entry=", 6) == 0) {
            if (entry_count == MAX_ENTRIES) {
                fprintf(stderr, "instruction_counter: more than %d entry= addresses\n", MAX_ENTRIES);
                return -1;
            }
            entry_addrs[entry_count++] = strtoull(a + 6, NULL, 0) & ~(uint64_t)1;
        } else if (strcmp(a, "masking=1") == 0) {
            watch_masking = true;
        } else if (strncmp(a, "mask_from=", 10) == 0) {
            mask_from_addr = strtoull(a + 10, NULL, 0) & ~(uint64_t)1;
            masking_live = false;
        } else if (strncmp(a, "out=", 4) == 0) {
            out_path = a + 4; /* argv outlives the plugin */
        } else {
            fprintf(stderr, "instruction_counter: unknown argument '%s'\n", a);
            return -1;
        }
    }
    if (out_path == NULL) {
        fprintf(stderr, "instruction_counter: missing out=PATH\n");
        return -1;
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_atexit_cb(id, write_results, NULL);
    return 0;
}

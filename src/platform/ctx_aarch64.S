/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx_aarch64.S: context switch for AArch64 (AAPCS64).
 *
 * Saves the callee-saved registers x19-x28, the frame pointer x29, the
 * link register x30 (where to resume), d8-d15 and FPCR, then swaps stack
 * pointers and returns through the other context's x30.
 *
 * Frame on a suspended stack (176 bytes, 16-aligned), from sp up:
 *   x19..x28, x29, x30, d8..d15, fpcr, padding
 */
/* The frame, onto the stack being left. */
        .macro  SAVE
        sub     sp, sp, #176
        stp     x19, x20, [sp, #0]
        stp     x21, x22, [sp, #16]
        stp     x23, x24, [sp, #32]
        stp     x25, x26, [sp, #48]
        stp     x27, x28, [sp, #64]
        stp     x29, x30, [sp, #80]
        stp     d8, d9, [sp, #96]
        stp     d10, d11, [sp, #112]
        stp     d12, d13, [sp, #128]
        stp     d14, d15, [sp, #144]
        mrs     x9, fpcr
        str     x9, [sp, #160]
        .endm

/* And off the stack being resumed, returning into it. */
        .macro  RESUME
        ldp     x19, x20, [sp, #0]
        ldp     x21, x22, [sp, #16]
        ldp     x23, x24, [sp, #32]
        ldp     x25, x26, [sp, #48]
        ldp     x27, x28, [sp, #64]
        ldp     x29, x30, [sp, #80]
        ldp     d8, d9, [sp, #96]
        ldp     d10, d11, [sp, #112]
        ldp     d12, d13, [sp, #128]
        ldp     d14, d15, [sp, #144]
        ldr     x9, [sp, #160]
        msr     fpcr, x9
        add     sp, sp, #176
        ret
        .endm

        .text
        .globl  cotp__ctx_switch
        .hidden cotp__ctx_switch
        .type   cotp__ctx_switch,%function
        .align  4
cotp__ctx_switch:                       /* x0 = void **save, x1 = void *load */
        SAVE
        mov     x9, sp
        str     x9, [x0]
        mov     sp, x1
        RESUME
        .size   cotp__ctx_switch,.-cotp__ctx_switch

/* Every context keeps its own FPCR here: the switch that x86-64 keeps for
 * processes spawned with fp_env is the same switch (load_fp unused). */
        .globl  cotp__ctx_switch_fp
        .hidden cotp__ctx_switch_fp
        .set    cotp__ctx_switch_fp, cotp__ctx_switch

/*
 * void *cotp__ctx_make(void *base, size_t size, void (*entry)(void))
 * A frame as above with x30 = entry and everything else zero (x29 = 0 ends
 * backtraces; FPCR 0 is the default rounding and no traps).
 */
        .globl  cotp__ctx_make
        .hidden cotp__ctx_make
        .type   cotp__ctx_make,%function
        .align  4
cotp__ctx_make:                 /* x0 = base, x1 = size, x2 = entry */
        add     x0, x0, x1
        mov     x1, x2
        and     x0, x0, #~15
        sub     x0, x0, #176
        mov     x2, #0
1:      str     xzr, [x0, x2]
        add     x2, x2, #8
        cmp     x2, #176
        b.ne    1b
        str     x1, [x0, #88]           /* x30 */
        ret
        .size   cotp__ctx_make,.-cotp__ctx_make

/*
 * void cotp__ctx_call_on(void **save, void *top, void (*fn)(void)) (ctx.h)
 * Leaves a switch's frame on the caller's stack; x19, saved in it, keeps
 * save across fn; x29 = 0 and x30 = 0 end backtraces on the fresh stack.
 */
        .globl  cotp__ctx_call_on
        .hidden cotp__ctx_call_on
        .type   cotp__ctx_call_on,%function
        .align  4
cotp__ctx_call_on:              /* x0 = save, x1 = top, x2 = fn */
        SAVE
        mov     x9, sp
        str     x9, [x0]
        mov     x19, x0
        mov     sp, x1
        mov     x29, #0
        mov     x30, #0
        blr     x2
        ldr     x9, [x19]
        mov     sp, x9
        RESUME
        .size   cotp__ctx_call_on,.-cotp__ctx_call_on

/* int cotp__ctx_return_resumed(int rc) (ctx.h): a plain return here, rc
 * already in w0. */
        .globl  cotp__ctx_return_resumed
        .hidden cotp__ctx_return_resumed
        .type   cotp__ctx_return_resumed,%function
        .align  4
cotp__ctx_return_resumed:
        ret
        .size   cotp__ctx_return_resumed,.-cotp__ctx_return_resumed

        .section .rodata
        .globl  cotp__ctx_below_sp
        .hidden cotp__ctx_below_sp
        .align  3
cotp__ctx_below_sp:
        .quad   0

        .section .note.GNU-stack,"",%progbits

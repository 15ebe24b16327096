/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx_x86_64.S: context switch for x86-64, System V ABI.
 *
 * Saves what the callee must preserve, rbp, rbx and r12-r15, then swaps
 * stack pointers.  The return address is already on the stack (pushed by
 * the call), so `ret` resumes the other context where it called the
 * switch.
 *
 * The MXCSR and the x87 control word (rounding, exception masks) are the
 * thread's, not the context's: reading the MXCSR (stmxcsr) took a third
 * of a switch here (5.3 ns a switch with it, 3.5 without).  A process that
 * changes them is spawned with fp_env (cotp/process.h), and a switch in or
 * out of such a process goes through cotp__ctx_switch_fp, which saves them
 * and loads the other context's, or the defaults for a context that does
 * not keep its own.  Every frame has the slot for them, so any context can
 * be resumed by either switch.
 *
 * Frame on a suspended stack, from sp up:
 *   [mxcsr:4 fcw:4] r15 r14 r13 r12 rbx rbp return-address
 */

/* The callee-saved registers, onto the stack being left. */
        .macro  SAVE
        pushq   %rbp
        pushq   %rbx
        pushq   %r12
        pushq   %r13
        pushq   %r14
        pushq   %r15
        .endm

/* And off the stack being resumed, returning into it. */
        .macro  RESUME
        popq    %r15
        popq    %r14
        popq    %r13
        popq    %r12
        popq    %rbx
        popq    %rbp
        ret
        .endm
        .text
        .globl  cotp__ctx_switch
        .hidden cotp__ctx_switch
        .type   cotp__ctx_switch,@function
        .align  16
cotp__ctx_switch:                       /* rdi = void **save, rsi = void *load */
        .cfi_startproc
        SAVE
        subq    $8, %rsp                /* the control words' slot, unused */
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        addq    $8, %rsp
        RESUME
        .cfi_endproc
        .size   cotp__ctx_switch,.-cotp__ctx_switch

/*
 * void cotp__ctx_switch_fp(void **save, void *load, int load_fp)
 * The same, also saving the MXCSR and x87 control word in the slot, then
 * loading the resumed context's (load_fp nonzero) or the defaults.
 */
        .globl  cotp__ctx_switch_fp
        .hidden cotp__ctx_switch_fp
        .type   cotp__ctx_switch_fp,@function
        .align  16
cotp__ctx_switch_fp:            /* rdi = save, rsi = load, edx = load_fp */
        .cfi_startproc
        SAVE
        subq    $8, %rsp
        stmxcsr (%rsp)
        fnstcw  4(%rsp)
        movq    %rsp, (%rdi)
        movq    %rsi, %rsp
        testl   %edx, %edx
        jz      1f
        ldmxcsr (%rsp)
        fldcw   4(%rsp)
        jmp     2f
1:      ldmxcsr default_words(%rip)
        fldcw   default_words+4(%rip)
2:      addq    $8, %rsp
        RESUME
        .cfi_endproc
        .size   cotp__ctx_switch_fp,.-cotp__ctx_switch_fp

/*
 * void *cotp__ctx_make(void *base, size_t size, void (*entry)(void))
 * Builds the frame above on a fresh stack: entry as the return address,
 * zeroed registers, default MXCSR (0x1F80) and x87 control word (0x037F).
 * Above the return address sits a zero word, a fake return address for
 * entry's own frame: it keeps rsp = 8 (mod 16) at entry, as after a call,
 * and stops debuggers' backtraces there.
 */
        .globl  cotp__ctx_make
        .hidden cotp__ctx_make
        .type   cotp__ctx_make,@function
        .align  16
cotp__ctx_make:                 /* rdi = base, rsi = size, rdx = entry */
        .cfi_startproc
        leaq    (%rdi,%rsi), %rax       /* top */
        andq    $-16, %rax
        movq    $0, -8(%rax)            /* fake return address of entry */
        movq    %rdx, -16(%rax)         /* entry: where `ret` goes */
        movq    $0, -24(%rax)           /* rbp */
        movq    $0, -32(%rax)           /* rbx */
        movq    $0, -40(%rax)           /* r12 */
        movq    $0, -48(%rax)           /* r13 */
        movq    $0, -56(%rax)           /* r14 */
        movq    $0, -64(%rax)           /* r15 */
        movl    $0x1F80, -72(%rax)      /* mxcsr */
        movl    $0x037F, -68(%rax)      /* x87 control word */
        subq    $72, %rax
        ret
        .cfi_endproc
        .size   cotp__ctx_make,.-cotp__ctx_make

/*
 * void cotp__ctx_call_on(void **save, void *top, void (*fn)(void)) (ctx.h)
 * The frame it leaves on the caller's stack is a switch's, so that
 * cotp__ctx_switch can resume it.  rbx, saved in that frame, keeps save
 * across fn.  On the fresh stack, fn's return address is this function's;
 * the unwind information stops there.
 */
        .globl  cotp__ctx_call_on
        .hidden cotp__ctx_call_on
        .type   cotp__ctx_call_on,@function
        .align  16
cotp__ctx_call_on:              /* rdi = save, rsi = top, rdx = fn */
        .cfi_startproc
        SAVE
        subq    $8, %rsp                /* the control words' slot, unused */
        movq    %rsp, (%rdi)
        movq    %rdi, %rbx
        movq    %rsi, %rsp
        .cfi_undefined %rip
        call    *%rdx
        movq    (%rbx), %rsp
        addq    $8, %rsp
        RESUME
        .cfi_endproc
        .size   cotp__ctx_call_on,.-cotp__ctx_call_on

/*
 * int cotp__ctx_return_resumed(int rc) (ctx.h)
 * The return address comes off the stack into rcx, free at a return, and
 * is jumped to.  This leaves one entry on the CPU's return stack that no
 * `ret` took, as every switch does; that stack is a ring, and the entries
 * below it are the suspended context's anyway.
 */
        .globl  cotp__ctx_return_resumed
        .hidden cotp__ctx_return_resumed
        .type   cotp__ctx_return_resumed,@function
        .align  16
cotp__ctx_return_resumed:       /* edi = rc */
        .cfi_startproc
        movl    %edi, %eax
        popq    %rcx
        .cfi_def_cfa_offset 0
        .cfi_register %rip, %rcx
        jmp     *%rcx
        .cfi_endproc
        .size   cotp__ctx_return_resumed,.-cotp__ctx_return_resumed

        .section .rodata
        .globl  cotp__ctx_below_sp
        .hidden cotp__ctx_below_sp
        .type   cotp__ctx_below_sp,@object
        .align  8
cotp__ctx_below_sp:
        .quad   0
        .size   cotp__ctx_below_sp,8

        .align  8
default_words:                  /* MXCSR, then the x87 control word */
        .long   0x1F80
        .long   0x037F

        .section .note.GNU-stack,"",@progbits

/* cli.h — the subcommands of the vlapbench program.
**
** Each subcommand is `int cmd_NAME(int argc, char ** argv)` (argv[0] is the subcommand name) implemented in the
** module that owns it; it returns the process exit code (0 ok, 1 failure / threshold crossed, 2 usage error) and
** prints its own --help.  harness/main.c holds the table; commands not linked in are weak and reported as such.
*/
#ifndef VB_CLI_H
#define VB_CLI_H

#define VB_CMD(name) int cmd_##name(int argc, char ** argv) __attribute__((weak))
VB_CMD(version);
VB_CMD(check_golden);
VB_CMD(tokenize);
VB_CMD(datasets);
VB_CMD(synth);
VB_CMD(bench_decode);
VB_CMD(answer);
VB_CMD(init_model);
VB_CMD(run);
VB_CMD(runs);
VB_CMD(merge);
VB_CMD(score);
VB_CMD(export);
VB_CMD(report);
VB_CMD(compare);
VB_CMD(bench_engine);
VB_CMD(demo);
#undef VB_CMD

/* Small option helpers shared by the commands. */
/* 1 if argv[i] equals -h or --help for any i in 1..argc-1. */
int vb_cli_wants_help(int argc, char ** argv);
/* If argv[*i] is `name` and a value follows, store it in *val, advance *i and return 1; `--name=value` works too. */
int vb_cli_opt(int argc, char ** argv, int * i, const char * name, const char ** val);
/* --device value v of command cmd: "cpu" -> *cuda = 0, return 0; "cuda" with a usable GPU -> *cuda = 1, return 0;
** "cuda" without one -> prints "CMD: --device cuda: CUDA backend not built ..." / "... no CUDA GPU visible: REASON"
** and returns 1; anything else -> prints the expected values and returns 2 (the exit codes of the commands). */
int vb_cli_device(const char * cmd, const char * v, int * cuda);

/* --compute f32|bf16 of `cmd`: parse v and set the engine's compute mode (vb_wmat_set_compute).  Returns 0, or 2
** after printing "cmd: <reason>" to stderr (an unknown mode, or bf16 on a CPU without AVX512_BF16). */
int vb_cli_set_compute(const char * cmd, const char * v);

#endif

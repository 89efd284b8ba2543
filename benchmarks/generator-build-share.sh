#!/usr/bin/env bash
# What the generator and the analyzers add to a real build, measured with and without them (DESIGN.md target:
# generator + analyzers <= 5 % of the compile time of a project with 10,000 migrations).
#
# Generates two projects of COUNT [Migration] methods (default 10,000; 100 per class and file; the four accepted
# shapes in turn; every 50th disabled) outside the repository, so they get the SDK defaults a user's project has:
#   empty      - empty bodies (`=> Task.CompletedTask`): the worst case, the generated table is most of the code;
#   realistic  - bodies that do what migrations do: get a service from context.Services, await a shared SQL helper
#                with a SQL string literal.
# Each project is built in three modes (environment variable SgmMode, read by the project file):
#   none       - the runtime library only: no generator, no analyzers, no Program.cs (the file using GeneratedMigrations);
#   gen        - + the generator (as a package consumer gets it: an analyzer, with the packed props) and Program.cs;
#   gen+an     - + the SourceGenMigrations analyzers.
# After one warm-up build per mode, RUNS rounds (default 5) each touch a file and recompile only that project
# (--no-restore --no-dependencies) once per mode, interleaved so that every mode sees the same machine load. The
# compiler server is on (-p:UseSharedCompilation=true, whatever the environment says). The time is the Csc task's from
# MSBuild's performance summary (wall clock), and the CPU time the compiler server (VBCSCompiler) spent during the
# build (/proc/PID/stat), which is far less sensitive to other processes on a shared machine. Reported: the median per
# mode and share = (with - without) / with, for both. Run nothing else that uses the compiler server meanwhile.
#
#   bash benchmarks/generator-build-share.sh [COUNT]     (RUNS=7, VARIANTS="empty", KEEP=1 to keep the projects)
set -euo pipefail
count=${1:-10000}
runs=${RUNS:-5}
variants=${VARIANTS:-"empty realistic"}
modes="none gen gen+an"
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sgm-build-share.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

for variant in $variants; do
  mkdir -p "$work/$variant"
  cat > "$work/$variant/Synthetic.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <RootNamespace>Synthetic</RootNamespace>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$root/src/SourceGenMigrations/SourceGenMigrations.csproj" />
  </ItemGroup>
  <ItemGroup Condition="'\$(SgmMode)' == 'none'">
    <Compile Remove="Program.cs" />
  </ItemGroup>
  <ItemGroup Condition="'\$(SgmMode)' != 'none'">
    <ProjectReference Include="$root/generator/SourceGenMigrations.Generator/SourceGenMigrations.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
  </ItemGroup>
  <ItemGroup Condition="'\$(SgmMode)' == 'gen+an'">
    <ProjectReference Include="$root/analyzers/SourceGenMigrations.Analyzers/SourceGenMigrations.Analyzers.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
  </ItemGroup>
  <Import Project="$root/src/SourceGenMigrations/buildTransitive/SourceGenMigrations.props" Condition="'\$(SgmMode)' != 'none'" />
</Project>
XML
done

python3 - "$work" "$count" "$variants" <<'PY'
import sys
work, count, variants = sys.argv[1], int(sys.argv[2]), sys.argv[3].split()
shapes = {
    "empty": [
        "public static Task M{0}(MigrationContext context, CancellationToken cancellationToken) => Task.CompletedTask;",
        "public static Task M{0}(CancellationToken cancellationToken) => Task.CompletedTask;",
        "public static ValueTask M{0}() => default;",
        "public static void M{0}(MigrationContext context) {{ }}",
    ],
    "realistic": [
        "public static async Task M{0}(MigrationContext context, CancellationToken cancellationToken)\n    {{\n"
        "        var sql = (ISqlExecutor)context.Services!.GetService(typeof(ISqlExecutor))!;\n"
        "        await sql.ExecuteAsync(\"CREATE TABLE t{0} (id INTEGER PRIMARY KEY, name TEXT NOT NULL, created_at TEXT NOT NULL)\", cancellationToken).ConfigureAwait(false);\n"
        "        await sql.ExecuteAsync(\"CREATE INDEX ix_t{0}_name ON t{0} (name)\", cancellationToken).ConfigureAwait(false);\n    }}",
        "public static Task M{0}(CancellationToken cancellationToken) =>\n"
        "        Db.ExecuteAsync(null, \"INSERT INTO settings (key, value) VALUES ('key{0}', 'value{0}')\", cancellationToken);",
        "public static async ValueTask M{0}()\n    {{\n"
        "        await Db.ExecuteAsync(null, \"UPDATE accounts SET flags = flags | {0} WHERE id > 0\", CancellationToken.None).ConfigureAwait(false);\n    }}",
        "public static void M{0}(MigrationContext context) =>\n"
        "        Db.Execute(context, \"ALTER TABLE accounts ADD COLUMN c{0} TEXT NULL\");",
    ],
}
per_file = 100
for variant in variants:
    for f in range((count + per_file - 1) // per_file):
        lines = ["using System.Threading;", "using System.Threading.Tasks;", "using SourceGenMigrations;", "",
                 f"namespace Synthetic.Area{f % 10};", "", f"public static class Migrations{f}", "{"]
        for i in range(f * per_file, min(count, (f + 1) * per_file)):
            enabled = ", Enabled = false" if i % 50 == 0 else ""
            lines.append(f"    [Migration(Order = {i + 1}{enabled})]")
            lines.append("    " + shapes[variant][i % 4].format(i + 1))
            lines.append("")
        lines += ["}", ""]
        text = "\n".join(lines)
        if variant == "realistic":
            text = text.replace("using SourceGenMigrations;", "using SourceGenMigrations;\nusing Synthetic;")
        open(f"{work}/{variant}/Migrations{f}.cs", "w").write(text)
    open(f"{work}/{variant}/Program.cs", "w").write(
        "namespace Synthetic;\n\npublic static class Entry\n{\n"
        "    public static System.Threading.Tasks.Task Run(SourceGenMigrations.IMigrationManager manager) => GeneratedMigrations.RunAsync(manager);\n"
        "    public static int Count => GeneratedMigrations.Registrations.Count;\n}\n")
    open(f"{work}/{variant}/Db.cs", "w").write("""using System;
using System.Threading;
using System.Threading.Tasks;
using SourceGenMigrations;

namespace Synthetic;

public interface ISqlExecutor
{
    Task ExecuteAsync(string sql, CancellationToken cancellationToken);
}

public static class Db
{
    public static Task ExecuteAsync(MigrationContext? context, string sql, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        return context?.Services?.GetService(typeof(ISqlExecutor)) is ISqlExecutor executor
            ? executor.ExecuteAsync(sql, cancellationToken)
            : Task.CompletedTask;
    }

    public static void Execute(MigrationContext context, string sql) =>
        ExecuteAsync(context, sql, CancellationToken.None).GetAwaiter().GetResult();
}
""")
PY

server_cpu_ms() { # CPU time (user + system) of this SDK's compiler server so far, 0 when none runs
  local pid
  pid=$(pgrep -n -f "Roslyn/bincore/VBCSCompiler" 2>/dev/null || true)
  [ -n "$pid" ] && [ -r "/proc/$pid/stat" ] || { echo "0 none"; return; }
  awk -v hz="$(getconf CLK_TCK)" -v pid="$pid" '{ print int(($14 + $15) * 1000 / hz), pid }' "/proc/$pid/stat"
}

build() { # variant mode log [extra args...]
  local variant=$1 mode=$2 log=$3; shift 3
  SgmMode=$mode dotnet build "$work/$variant" -c Release -nologo -p:UseSharedCompilation=true "$@" > "$log" 2>&1 \
    || { echo "build failed ($variant, $mode): $log"; tail -20 "$log"; exit 1; }
}

echo "projects: $count migrations each in $work ($variants); $runs rounds; $(nproc) CPUs; load: $(uptime | sed 's/.*load average: //')"
for variant in $variants; do
  for mode in $modes; do
    build "$variant" "$mode" "$work/warmup-$variant-$mode.log" -v:q
  done
done

results="$work/results.tsv"
: > "$results"
for run in $(seq 1 "$runs"); do
  for variant in $variants; do
    for mode in $modes; do
      touch "$work/$variant/Migrations0.cs"
      log="$work/build-$variant-$mode-$run.log"
      read -r cpu0 pid0 < <(server_cpu_ms)
      build "$variant" "$mode" "$log" --no-restore --no-dependencies -v:n -clp:PerformanceSummary
      read -r cpu1 pid1 < <(server_cpu_ms)
      [ "$pid0" = "$pid1" ] || cpu0=0   # the server (re)started during this build
      cpu_ms=$((cpu1 - cpu0))
      csc_ms=$(grep -E '^\s+[0-9]+ ms\s+Csc\s+[0-9]+ calls' "$log" | awk '{print $1}' | tail -1)
      [ -n "$csc_ms" ] || { echo "no Csc time in $log (KEEP=1 keeps it)"; exit 1; }
      grep -E '(warning|error) (SGM|CS)[0-9]+' "$log" | head -3 || true
      printf '%s\t%s\t%s\t%s\t%s\n' "$variant" "$mode" "$run" "$csc_ms" "$cpu_ms" >> "$results"
      printf 'round %s  %-9s %-6s Csc %6s ms  server CPU %6s ms  (load %s)\n' "$run" "$variant" "$mode" "$csc_ms" "$cpu_ms" "$(cut -d' ' -f1 /proc/loadavg)"
    done
  done
done

python3 - "$results" <<'PY'
import statistics, sys
rows = [line.split("\t") for line in open(sys.argv[1]).read().splitlines()]
for column, label in ((3, "Csc task, wall clock"), (4, "compiler server CPU time")):
    data = {}
    for row in rows:
        data.setdefault(row[0], {}).setdefault(row[1], []).append(int(row[column]))
    for variant, modes in data.items():
        med = {m: statistics.median(v) for m, v in modes.items()}
        print(f"\n{variant}, {label}: median (min-max) over {len(modes['none'])} rounds")
        for m, v in modes.items():
            print(f"  {m:7} {med[m]:8.0f} ms  ({min(v)}-{max(v)})")
        for m in ("gen", "gen+an"):
            share = 100 * (med[m] - med["none"]) / med[m]
            # The same per round, to show the spread (rounds are interleaved, so each sees one load).
            per_round = sorted(100 * (w - n) / w for w, n in zip(modes[m], modes["none"]))
            print(f"  share {m:7} {share:6.1f} %  (per round: {', '.join(f'{s:.1f}' for s in per_round)})  target <= 5 %: {'met' if share <= 5 else 'NOT met'}")
PY

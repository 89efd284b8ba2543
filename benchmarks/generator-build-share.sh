#!/usr/bin/env bash
# The generator's share of a real build: generates a project of N [Migration] methods (default 10,000) that takes the
# generator as an analyzer (as a package consumer does), builds it once to warm up (restore, dependencies, compiler
# server), then RUNS times (default 3) touches a file and recompiles only that project with -p:ReportAnalyzer=true.
# For each run it reads the compiler's own report (MigrationGenerator's time) and the Csc task time from MSBuild's
# performance summary, and prints the share. Target (DESIGN.md): <= 5 % of the project's compile time.
#
#   bash benchmarks/generator-build-share.sh [COUNT]       (RUNS=5 KEEP=1 to keep the generated project)
set -euo pipefail
count=${1:-10000}
runs=${RUNS:-3}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sgm-build-share.XXXXXX")
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

# Outside the repository on purpose: the project gets the SDK defaults a user's project has, not the repo's settings.
cat > "$work/Synthetic.csproj" <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <Import Project="$root/src/SourceGenMigrations/buildTransitive/SourceGenMigrations.props" />
  <PropertyGroup>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <RootNamespace>Synthetic</RootNamespace>
    <ReportAnalyzer>true</ReportAnalyzer>
  </PropertyGroup>
  <ItemGroup>
    <ProjectReference Include="$root/src/SourceGenMigrations/SourceGenMigrations.csproj" />
    <ProjectReference Include="$root/generator/SourceGenMigrations.Generator/SourceGenMigrations.Generator.csproj" OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
  </ItemGroup>
</Project>
XML

python3 - "$work" "$count" <<'PY'
import sys
work, count = sys.argv[1], int(sys.argv[2])
shapes = [
    "public static Task M{0}(MigrationContext context, CancellationToken cancellationToken) => Task.CompletedTask;",
    "public static Task M{0}(CancellationToken cancellationToken) => Task.CompletedTask;",
    "public static ValueTask M{0}() => default;",
    "public static void M{0}(MigrationContext context) {{ }}",
]
per_file = 100
for f in range((count + per_file - 1) // per_file):
    lines = ["using System.Threading;", "using System.Threading.Tasks;", "using SourceGenMigrations;", "",
             f"namespace Synthetic.Area{f % 10};", "", f"public static class Migrations{f}", "{"]
    for i in range(f * per_file, min(count, (f + 1) * per_file)):
        enabled = ", Enabled = false" if i % 50 == 0 else ""
        lines.append(f"    [Migration(Order = {i + 1}{enabled})]")
        lines.append("    " + shapes[i % len(shapes)].format(i + 1))
    lines += ["}", ""]
    open(f"{work}/Migrations{f}.cs", "w").write("\n".join(lines))
open(f"{work}/Program.cs", "w").write(
    "namespace Synthetic;\n\npublic static class Entry\n{\n"
    "    public static System.Threading.Tasks.Task Run(SourceGenMigrations.IMigrationManager manager) => GeneratedMigrations.RunAsync(manager);\n"
    "    public static int Count => GeneratedMigrations.Registrations.Count;\n}\n")
PY

echo "project: $count migrations in $work"
dotnet build "$work" -c Release -v:q -nologo >/dev/null

shares=()
for run in $(seq 1 "$runs"); do
  touch "$work/Program.cs"
  log="$work/build-$run.log"
  dotnet build "$work" -c Release --no-restore --no-dependencies -v:d -clp:PerformanceSummary -nologo > "$log"
  csc_ms=$(grep -E '^\s+[0-9]+ ms\s+Csc\s+[0-9]+ calls' "$log" | awk '{print $1}' | tail -1)
  gen_s=$(grep -E '^\s+[0-9.<]+\s+[0-9<]+\s+SourceGenMigrations\.Generator\.MigrationGenerator' "$log" | awk '{print $1}' | tail -1)
  all_gen_s=$(grep -E 'Total generator execution time:' "$log" | sed -E 's/.*: ([0-9.]+) seconds.*/\1/' | tail -1)
  all_an_s=$(grep -E 'Total analyzer execution time:' "$log" | sed -E 's/.*: ([0-9.]+) seconds.*/\1/' | tail -1)
  if [ -z "$csc_ms" ] || [ -z "$gen_s" ]; then
    echo "could not read the timings from $log (KEEP=1 keeps it)"; exit 1
  fi
  gen_s=${gen_s#<}
  share=$(python3 -c 'import sys; print("%.2f" % (100 * float(sys.argv[1]) * 1000 / float(sys.argv[2])))' "$gen_s" "$csc_ms")
  shares+=("$share")
  echo "run $run: Csc ${csc_ms} ms; MigrationGenerator ${gen_s} s; all generators ${all_gen_s:-?} s; all analyzers ${all_an_s:-?} s; generator share ${share} %"
done
python3 -c "import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(f'generator share of compile time: median {statistics.median(v):.2f} % over {len(v)} runs (target <= 5 %)')" "${shares[@]}"

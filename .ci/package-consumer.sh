#!/usr/bin/env bash
# Packs the libraries and builds a fresh project that takes them by PackageReference from a local folder feed, as a
# user would: a duplicate order fails the build with SGM001; without it the project builds, runs its migrations (two
# methods and a SQL file the package's props pick up from Migrations/) on SQLite, and publishes with NativeAOT.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# A version of its own each run, so a package cached by an earlier run is never taken instead of this build.
version="0.1.0-ci.$(date +%s)"
feed="$root/artifacts/packages"
rm -rf "$feed"
dotnet pack SourceGenMigrations.sln -c Release -o "$feed" -p:Version="$version" >/dev/null
ls "$feed"
for package in SourceGenMigrations SourceGenMigrations.Sqlite SourceGenMigrations.PostgreSql; do
  [ -f "$feed/$package.$version.nupkg" ] || { echo "missing package $package"; exit 1; }
done
# The runtime package carries the generator and the analyzers.
contents=$(unzip -l "$feed/SourceGenMigrations.$version.nupkg")
for dll in SourceGenMigrations.Generator.dll SourceGenMigrations.Analyzers.dll SourceGenMigrations.CodeFixes.dll; do
  grep -q "analyzers/dotnet/cs/$dll" <<<"$contents" || { echo "SourceGenMigrations.nupkg lacks analyzers/dotnet/cs/$dll"; exit 1; }
done
for file in buildTransitive/SourceGenMigrations.props buildTransitive/SourceGenMigrations.targets; do
  grep -q "$file" <<<"$contents" || { echo "SourceGenMigrations.nupkg lacks $file"; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > nuget.config <<XML
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="local" value="$feed" />
  </packageSources>
</configuration>
XML
cat > Consumer.csproj <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net10.0</TargetFramework>
    <Nullable>enable</Nullable>
    <ImplicitUsings>enable</ImplicitUsings>
    <RootNamespace>Consumer</RootNamespace>
    <InvariantGlobalization>true</InvariantGlobalization>
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="SourceGenMigrations" Version="$version" />
    <PackageReference Include="SourceGenMigrations.Sqlite" Version="$version" />
  </ItemGroup>
</Project>
XML
# A SQL-file migration: the package adds Migrations/**/*.sql as AdditionalFiles, nothing in the project names it.
mkdir -p Migrations
printf "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\nINSERT INTO notes (id, body) VALUES (1, 'from a SQL file');\n" > Migrations/0003_create_notes.sql
write_program() { # write_program SECOND_ORDER
  cat > Program.cs <<CS
using SourceGenMigrations;
using SourceGenMigrations.Sqlite;

await using var manager = new SqliteMigrationManager("Data Source=consumer.db");
await Consumer.GeneratedMigrations.RunAsync(manager);
Console.WriteLine("registered: " + string.Join(", ", Consumer.GeneratedMigrations.Registrations.Select(r => r.Order + "=" + r.Name)));
await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=consumer.db")) { connection.Open(); using var query = connection.CreateCommand(); query.CommandText = "SELECT body FROM notes"; Console.WriteLine("notes: " + query.ExecuteScalar()); }

public static class Migrations
{
    [Migration(Order = 1)]
    public static void First() => Console.WriteLine("ran First");

    [Migration(Order = $1)]
    public static Task Second(CancellationToken cancellationToken)
    {
        Console.WriteLine("ran Second");
        return Task.CompletedTask;
    }
}
CS
}

echo "--- duplicate order: the build must fail with SGM001"
write_program 1
set +e
build=$(dotnet build 2>&1); code=$?
set -e
# Reported on each duplicate, at its `Order = ...` argument (lines 11 and 14, column 16).
if [ "$code" -eq 0 ] || ! grep -qE "Program.cs\(11,16\): error SGM001" <<<"$build" || ! grep -qE "Program.cs\(14,16\): error SGM001" <<<"$build"; then
  echo "$build"; echo "expected the build to fail with SGM001 at Program.cs(11,16) and (14,16)"; exit 1
fi
grep -E "error SGM001" <<<"$build" | sort -u

echo "--- valid: builds and runs its migrations on SQLite"
write_program 2
run=$(dotnet run 2>&1) || { echo "$run"; exit 1; }
echo "$run"
grep -q "ran First" <<<"$run" && grep -q "ran Second" <<<"$run" && grep -q "registered: 1=Migrations.First, 2=Migrations.Second, 3=Migrations/0003_create_notes.sql" <<<"$run"
grep -q "notes: from a SQL file" <<<"$run" || { echo "the SQL file did not run"; exit 1; }
again=$(dotnet run 2>&1)
if grep -q "ran " <<<"$again"; then echo "$again"; echo "a second run must run nothing"; exit 1; fi

echo "--- a project that references the package only through another project does not take its Migrations/*.sql"
mkdir -p transitive/Lib transitive/App/Migrations
cp nuget.config transitive/
cat > transitive/Lib/Lib.csproj <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings></PropertyGroup>
  <ItemGroup><PackageReference Include="SourceGenMigrations" Version="$version" /></ItemGroup>
</Project>
XML
cat > transitive/App/App.csproj <<XML
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><ImplicitUsings>enable</ImplicitUsings><RootNamespace>App</RootNamespace></PropertyGroup>
  <ItemGroup><ProjectReference Include="../Lib/Lib.csproj" /></ItemGroup>
</Project>
XML
echo 'Console.WriteLine("app registrations: " + App.GeneratedMigrations.Registrations.Count);' > transitive/App/Program.cs
echo "SELECT 1;" > transitive/App/Migrations/0001_not_mine.sql
transitive=$(cd transitive/App && dotnet run 2>&1) || { echo "$transitive"; exit 1; }
echo "$transitive"
grep -q "app registrations: 0" <<<"$transitive" || { echo "a transitive reference must not add Migrations/*.sql"; exit 1; }
# Out of the consumer's folder again before it builds (its default globs would take these sources in).
rm -rf transitive

echo "--- NativeAOT publish"
cc=clang
command -v clang >/dev/null 2>&1 || cc=clang-14
rm -f consumer.db
publish=$(dotnet publish -c Release -r linux-x64 -p:PublishAot=true -p:CppCompilerAndLinker="$cc" -o aot 2>&1) || { echo "$publish"; exit 1; }
if grep -qE "warning IL[23][0-9]{3}" <<<"$publish"; then echo "$publish" | grep -E "warning IL"; exit 1; fi
native=$(./aot/Consumer 2>&1) || { echo "$native"; exit 1; }
echo "$native"
grep -q "ran Second" <<<"$native"
grep -q "notes: from a SQL file" <<<"$native"
echo "package consumption: ok"

#!/usr/bin/env bash
# Packs the libraries and builds a fresh project that takes every one of them (the runtime, the three managers, the
# hosting) by PackageReference from a local folder feed, as a user would: a duplicate order fails the build with
# SGM001; without it the project builds, uses each package, runs its migrations (two methods and a SQL file the
# package's props pick up from Migrations/) on SQLite through the Generic Host, and publishes with NativeAOT.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# A version of its own each run, so a package cached by an earlier run is never taken instead of this build.
version="0.1.0-ci.$(date +%s)"
feed="$root/artifacts/packages"
rm -rf "$feed"
dotnet pack SourceGenMigrations.sln -c Release -o "$feed" -p:Version="$version" >/dev/null
ls "$feed"
packages=(SourceGenMigrations SourceGenMigrations.Sqlite SourceGenMigrations.PostgreSql SourceGenMigrations.MySql SourceGenMigrations.Hosting)
for package in "${packages[@]}"; do
  [ -f "$feed/$package.$version.nupkg" ] || { echo "missing package $package"; exit 1; }
done
# The runtime package carries the generator and the analyzers.
contents=$(unzip -l "$feed/SourceGenMigrations.$version.nupkg")
for dll in SourceGenMigrations.Generator.dll SourceGenMigrations.Analyzers.dll SourceGenMigrations.CodeFixes.dll; do
  grep -q "analyzers/dotnet/cs/$dll" <<<"$contents" || { echo "SourceGenMigrations.nupkg lacks analyzers/dotnet/cs/$dll"; exit 1; }
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
$(for package in "${packages[@]}"; do echo "    <PackageReference Include=\"$package\" Version=\"$version\" />"; done)
    <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.0" />
  </ItemGroup>
</Project>
XML
# A SQL-file migration: the package adds Migrations/**/*.sql as AdditionalFiles, nothing in the project names it.
mkdir -p Migrations
printf "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);\nINSERT INTO notes (id, body) VALUES (1, 'from a SQL file');\n" > Migrations/0003_create_notes.sql
cat > Program.cs <<'CS'
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SourceGenMigrations.Hosting;
using SourceGenMigrations.MySql;
using SourceGenMigrations.PostgreSql;
using SourceGenMigrations.Sqlite;

// The PostgreSQL and MySQL packages: their managers are built from a connection string (no server is contacted).
await using (var postgres = new PostgreSqlMigrationManager("Host=127.0.0.1;Database=app"))
{
    Console.WriteLine("built " + postgres.GetType().Name);
}

await using (var mysql = new MySqlMigrationManager("Server=127.0.0.1;Database=app"))
{
    Console.WriteLine("built " + mysql.GetType().Name);
}

// The hosting package runs the migrations on SQLite while the host starts.
var builder = Host.CreateApplicationBuilder(args);
builder.Services.AddMigrations(Consumer.GeneratedMigrations.Registrations, _ => new SqliteMigrationManager("Data Source=consumer.db"));
using var host = builder.Build();
await host.StartAsync();
await host.StopAsync();
Console.WriteLine("registered: " + string.Join(", ", Consumer.GeneratedMigrations.Registrations.Select(r => r.Order + "=" + r.Name)));
await using (var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=consumer.db")) { connection.Open(); using var query = connection.CreateCommand(); query.CommandText = "SELECT body FROM notes"; Console.WriteLine("notes: " + query.ExecuteScalar()); }
CS
write_migrations() { # write_migrations SECOND_ORDER
  cat > Migrations.cs <<CS
using SourceGenMigrations;

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
write_migrations 1
set +e
build=$(dotnet build 2>&1); code=$?
set -e
# Reported on each duplicate, at its `Order = ...` argument (lines 5 and 8, column 16).
if [ "$code" -eq 0 ] || ! grep -qE "Migrations.cs\(5,16\): error SGM001" <<<"$build" || ! grep -qE "Migrations.cs\(8,16\): error SGM001" <<<"$build"; then
  echo "$build"; echo "expected the build to fail with SGM001 at Migrations.cs(5,16) and (8,16)"; exit 1
fi
# Every package came from this run's feed, at this run's version.
for package in "${packages[@]}"; do
  grep -qi "\"$package/$version\"" obj/project.assets.json || { echo "$package $version was not restored from the feed"; exit 1; }
done
grep -E "error SGM001" <<<"$build" | sort -u

echo "--- valid: builds, uses every package, runs its migrations on SQLite through the host"
write_migrations 2
run=$(dotnet run 2>&1) || { echo "$run"; exit 1; }
echo "$run"
for expected in "built PostgreSqlMigrationManager" "built MySqlMigrationManager" "ran First" "ran Second" "registered: 1=Migrations.First, 2=Migrations.Second, 3=Migrations/0003_create_notes.sql" "notes: from a SQL file"; do
  grep -q "$expected" <<<"$run" || { echo "expected '$expected' in the output"; exit 1; }
done
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
for expected in "built PostgreSqlMigrationManager" "built MySqlMigrationManager" "ran Second" "notes: from a SQL file"; do
  grep -q "$expected" <<<"$native" || { echo "expected '$expected' in the native binary's output"; exit 1; }
done
echo "package consumption: ok"

using System.Globalization;
using FluentMigrator.Runner;
using FluentMigrator.Runner.Initialization;
using Microsoft.Extensions.DependencyInjection;

namespace Peers.FluentMigrator;

/// <summary>FluentMigrator as its documentation sets it up: a service provider, ScanIn(assembly).For.Migrations(), MigrateUp().</summary>
public static class FluentMigratorContender
{
    /// <summary>Applies the N migrations of namespace N0100 or N1000 to <paramref name="target"/> (an SQLite file, a PostgreSQL or a MySQL connection string; MySQL through AddMySql5, which MariaDB speaks).</summary>
    public static void Run(string target, int count)
    {
        var ns = typeof(FluentMigratorContender).Namespace + ".N" + count.ToString("D4", CultureInfo.InvariantCulture);
        using var services = new ServiceCollection()
            .AddFluentMigratorCore()
            .ConfigureRunner(runner => (Workload.IsMySql(target) ? runner.AddMySql5().WithGlobalConnectionString(target)
                    : Workload.IsPostgres(target) ? runner.AddPostgres().WithGlobalConnectionString(target)
                    : runner.AddSQLite().WithGlobalConnectionString(Workload.ConnectionString(target)))
                .ScanIn(typeof(FluentMigratorContender).Assembly).For.Migrations())
            .Configure<TypeFilterOptions>(filter =>
            {
                filter.Namespace = ns;
                filter.NestedNamespaces = false;
            })
            .BuildServiceProvider(validateScopes: false);
        using var scope = services.CreateScope();
        var runner = scope.ServiceProvider.GetRequiredService<IMigrationRunner>();
        runner.MigrateUp();
    }
}

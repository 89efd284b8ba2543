using System.Globalization;
using DbUp;

namespace Peers.DbUp;

/// <summary>DbUp as its documentation sets it up: DeployChanges.To.SqliteDatabase, embedded scripts, PerformUpgrade().</summary>
public static class DbUpContender
{
    /// <summary>Applies the N embedded scripts of Scripts.N0100 or Scripts.N1000 to <paramref name="target"/> (an SQLite file or a PostgreSQL connection string).</summary>
    public static void Run(string target, int count)
    {
        var prefix = typeof(DbUpContender).Namespace + ".Scripts.N" + count.ToString("D4", CultureInfo.InvariantCulture) + ".";
        var builder = Workload.IsPostgres(target)
            ? DeployChanges.To.PostgresqlDatabase(target)
            : DeployChanges.To.SqliteDatabase(Workload.ConnectionString(target));
        var upgrader = builder
            .WithScriptsEmbeddedInAssembly(typeof(DbUpContender).Assembly, name => name.StartsWith(prefix, StringComparison.Ordinal))
            .LogToNowhere()
            .Build();
        var result = upgrader.PerformUpgrade();
        if (!result.Successful)
        {
            throw new InvalidOperationException("DbUp failed: " + result.Error?.Message, result.Error);
        }
    }
}

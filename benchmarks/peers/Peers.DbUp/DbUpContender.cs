using System.Globalization;
using DbUp;

namespace Peers.DbUp;

/// <summary>DbUp as its documentation sets it up: DeployChanges.To.SqliteDatabase, embedded scripts, PerformUpgrade().</summary>
public static class DbUpContender
{
    /// <summary>Applies the N embedded scripts of Scripts.N0100 or Scripts.N1000 to <paramref name="file"/>.</summary>
    public static void Run(string file, int count)
    {
        var prefix = typeof(DbUpContender).Namespace + ".Scripts.N" + count.ToString("D4", CultureInfo.InvariantCulture) + ".";
        var upgrader = DeployChanges.To
            .SqliteDatabase(Workload.ConnectionString(file))
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

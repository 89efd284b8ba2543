using Microsoft.Data.Sqlite;
using SourceGenMigrations.Sqlite;

namespace SourceGenMigrations.IntegrationTests;

/// <summary><see cref="SqliteMigrationManagerOptions.Synchronous"/> and <see cref="SqliteMigrationManagerOptions.UseWriteAheadLog"/> on the connection served to migrations.</summary>
public sealed class SqliteDurabilityTests
{
    [Theory]
    [InlineData(true, null, "wal", 1)]
    [InlineData(true, SqliteSynchronousMode.Full, "wal", 2)]
    [InlineData(false, null, "delete", 2)]
    [InlineData(false, SqliteSynchronousMode.Extra, "delete", 3)]
    [InlineData(true, SqliteSynchronousMode.Off, "wal", 0)]
    public async Task The_served_connection_has_the_journal_mode_and_synchronous_setting_asked_for(bool wal, SqliteSynchronousMode? synchronous, string journalMode, long synchronousValue)
    {
        await using var db = new SqliteTarget();
        await using var manager = new SqliteMigrationManager(db.ConnectionString, new SqliteMigrationManagerOptions { UseWriteAheadLog = wal, Synchronous = synchronous });

        var connection = (SqliteConnection)manager.GetService(typeof(SqliteConnection))!;
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";
        Assert.Equal(journalMode, (string?)command.ExecuteScalar());
        command.CommandText = "PRAGMA synchronous";
        Assert.Equal(synchronousValue, (long?)command.ExecuteScalar());
    }

    [Fact]
    public void An_undefined_synchronous_mode_is_rejected_naming_the_option_and_value()
    {
        var error = Assert.Throws<ArgumentException>(() => new SqliteMigrationManager("Data Source=x.db", new SqliteMigrationManagerOptions { Synchronous = (SqliteSynchronousMode)7 }));
        Assert.Contains("Synchronous", error.Message, StringComparison.Ordinal);
        Assert.Contains("7", error.Message, StringComparison.Ordinal);
    }
}

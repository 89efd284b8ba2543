using Npgsql;
using SourceGenMigrations.Internal;

namespace SourceGenMigrations.PostgreSql;

public sealed partial class PostgreSqlMigrationManager
{
    /// <summary>The lease operations in PostgreSQL's dialect: one autocommit statement each (nothing on the session).</summary>
    private sealed class LeaseStore(PostgreSqlMigrationManager manager) : ILeaseStore
    {
        public async Task<LeaseAttempt> TryTakeAsync(CancellationToken cancellationToken)
        {
            await using (var take = manager.OwnerCommand(manager._sql.Take, withLease: true))
            {
                if (await take.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime takenUntil)
                {
                    return new LeaseAttempt(true, new LeaseHolder(manager.OwnerId, ToOffset(takenUntil)));
                }
            }

            return new LeaseAttempt(false, await ReadAsync(cancellationToken).ConfigureAwait(false));
        }

        public async Task<(LeaseExtension Outcome, DateTimeOffset ExpiresAt)> TryExtendAsync(CancellationToken cancellationToken)
        {
            await using var extend = manager.OwnerCommand(manager._sql.Extend, withLease: true);
            return await extend.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is DateTime extendedUntil
                ? (LeaseExtension.Extended, ToOffset(extendedUntil))
                : (LeaseExtension.Lost, default);
        }

        public async Task<bool> TryReleaseAsync(CancellationToken cancellationToken)
        {
            await using var release = manager.OwnerCommand(manager._sql.Release, withLease: false);
            return await release.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1;
        }

        public async Task<LeaseHolder?> ReadAsync(CancellationToken cancellationToken)
        {
            await using var command = manager._dataSource.CreateCommand(manager._sql.ReadLease);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false)
                ? new LeaseHolder(reader.GetString(0), ToOffset(reader.GetFieldValue<DateTime>(1)))
                : null;
        }
    }

    /// <summary>A command on the data source with <c>$1</c> = the owner id and, when asked, <c>$2</c> = the lease duration.</summary>
    private NpgsqlCommand OwnerCommand(string sql, bool withLease)
    {
        var command = _dataSource.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = OwnerId });
        if (withLease)
        {
            command.Parameters.Add(new NpgsqlParameter<TimeSpan> { TypedValue = _leaseDuration });
        }

        return command;
    }
}

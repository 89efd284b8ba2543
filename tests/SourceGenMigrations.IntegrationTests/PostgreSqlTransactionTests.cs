using System.Data.Common;
using Npgsql;

namespace SourceGenMigrations.IntegrationTests;

/// <summary>
/// What PostgreSQL shows of the unit of work beyond the other databases: the lease can be taken from a runner while its
/// transactional migration runs (<see cref="LeaseTheftScenarios"/>), and a non-transactional migration runs statements
/// that cannot run in a transaction while other runners use the same database.
/// </summary>
public sealed class PostgreSqlTransactionTests : LeaseTheftScenarios, IPostgresTests
{
    protected override async Task<DbTarget> CreateTargetAsync() => await PostgresTarget.CreateAsync();

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private static MigrationOptions Options(int heartbeatMilliseconds) => new()
    {
        ConfigProvider = () => new MigrationConfig { HeartbeatIntervalMilliseconds = heartbeatMilliseconds, HeartbeatFailureRetryCount = 0, DeadlineMilliseconds = 120_000, UnlockDeadlineMilliseconds = 10_000 },
    };

    [DbFact]
    public async Task The_transactional_migrations_of_one_run_share_one_connection_and_each_commits_on_its_own()
    {
        await using var db = await PostgresTarget.CreateAsync();
        var backends = new List<int>();
        var transactions = new List<long>();
        async Task Record(MigrationContext context, CancellationToken ct)
        {
            await using var command = new NpgsqlCommand("SELECT pg_backend_pid(), txid_current()", Assert.IsType<NpgsqlConnection>(context.Services!.GetService(typeof(NpgsqlConnection))));
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            backends.Add(reader.GetInt32(0));
            transactions.Add(reader.GetInt64(1));
        }

        var manager = db.CreateManager();
        await MigrationRunner.RunAsync(manager, [new MigrationRegistration(1, Record), new MigrationRegistration(2, Record), new MigrationRegistration(3, Record)], Options(heartbeatMilliseconds: 60_000));
        await ((IAsyncDisposable)manager).DisposeAsync();

        // No pool round trip and no session reset between two migrations; one transaction (one commit) each.
        Assert.Single(backends.Distinct());
        Assert.Equal(3, transactions.Distinct().Count());
    }

    [DbFact]
    public async Task Create_index_concurrently_in_a_non_transactional_migration_completes_while_a_replica_waits_one_starts_and_a_status_look_polls()
    {
        await using var db = await PostgresTarget.CreateAsync();
        await db.CreateSideEffectTableAsync();
        await db.ExecuteAsync("INSERT INTO side_effect (migration_order, previous_status, pid) SELECT g, 'seed', 0 FROM generate_series(1000, 5000) g");
        var indexing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var othersBusy = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var registrations = new[]
        {
            new MigrationRegistration(1, DbTarget.InsertSideEffectAsync),
            new MigrationRegistration(2, async (context, ct) =>
            {
                indexing.TrySetResult();
                await othersBusy.Task.WaitAsync(ct);
                var connection = Assert.IsType<NpgsqlConnection>(context.Services!.GetService(typeof(NpgsqlConnection)));
                Assert.Null(context.Services.GetService(typeof(DbTransaction)));
                await using var command = new NpgsqlCommand("CREATE INDEX CONCURRENTLY ix_side_effect_order ON side_effect (migration_order)", connection);
                await command.ExecuteNonQueryAsync(ct);
            }, name: "App.IndexConcurrently", transactional: false),
            new MigrationRegistration(3, DbTarget.InsertSideEffectAsync),
        };

        var applier = db.CreateManager();
        var waiter = db.CreateManager();
        var starter = db.CreateManager();
        var looker = db.CreateManager();
        using var stop = new CancellationTokenSource();
        var applying = MigrationRunner.RunAsync(applier, registrations, Options(heartbeatMilliseconds: 100));
        await indexing.Task.WaitAsync(Patience);

        // A replica waiting for the lease, one starting over and over (database lock, data stores), a status look polling.
        var waiting = MigrationRunner.RunAsync(waiter, registrations, Options(heartbeatMilliseconds: 100));
        var starts = 0;
        var looks = 0;
        var starting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await starter.AcquireDbLockAsync(CancellationToken.None);
                await starter.EnsureDataStoresAsync(CancellationToken.None);
                await starter.ReleaseDbLockAsync(CancellationToken.None);
                Interlocked.Increment(ref starts);
            }
        });
        var looking = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                await MigrationRunner.PlanAsync(looker, registrations, Options(heartbeatMilliseconds: 100));
                Interlocked.Increment(ref looks);
            }
        });
        while (Volatile.Read(ref starts) < 3 || Volatile.Read(ref looks) < 3)
        {
            await Task.Delay(10);
        }

        othersBusy.SetResult();
        await applying.WaitAsync(Patience); // CREATE INDEX CONCURRENTLY waits for every open transaction: none of ours stays open
        await waiting.WaitAsync(Patience);
        await stop.CancelAsync();
        await Task.WhenAll(starting, looking).WaitAsync(Patience);
        foreach (var manager in new[] { applier, waiter, starter, looker })
        {
            await ((IAsyncDisposable)manager).DisposeAsync();
        }

        Assert.Equal(1, await db.CountAsync("SELECT COUNT(*) FROM pg_index WHERE indexrelid = 'ix_side_effect_order'::regclass AND indisvalid"));
        Assert.Equal(new Dictionary<long, string> { [1] = "COMPLETED", [2] = "COMPLETED", [3] = "COMPLETED" }, await db.StatusesAsync());
        Assert.Equal(1, await db.SideEffectCountAsync(3));
        Assert.True(Volatile.Read(ref starts) >= 3 && Volatile.Read(ref looks) >= 3);
    }
}

using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SourceGenMigrations.Hosting.Tests;

public sealed class HostStartupTests
{
    [Fact]
    public async Task Start_runs_the_migrations_once_before_every_other_hosted_service_starts()
    {
        var log = new EventLog();
        var manager = new InMemoryMigrationManager(log);
        var builder = TestHosts.CreateBuilder();

        // Registered before AddMigrations on purpose: the migrations still come first.
        builder.Services.AddSingleton<IHostedService>(_ => new RecordingHostedService(log, "early"));
        builder.Services.AddMigrations([TestHosts.Migration(1, log), TestHosts.Migration(2, log)], _ => manager);
        builder.Services.AddSingleton<IHostedService>(_ => new PlainHostedService(log, "plain"));

        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Timeout);
        await host.StopAsync().WaitAsync(TestHosts.Timeout);

        var events = log.Events;
        Assert.Equal(
            [
                "manager: AcquireDbLock",
                "manager: EnsureDataStores",
                "manager: ReleaseDbLock",
                "manager: AcquireMigrationLock",
                "manager: ListStatuses",
                "manager: PersistStatus(1, Pending)",
                "manager: PersistStatus(2, Pending)",
                "manager: PersistStatus(1, Started)",
                "migration 1 (Test.Migrations.M1) previous Pending",
                "manager: PersistStatus(1, Completed)",
                "manager: PersistStatus(2, Started)",
                "migration 2 (Test.Migrations.M2) previous Pending",
                "manager: PersistStatus(2, Completed)",
                "manager: ReleaseMigrationLock",
                "manager: Dispose",
                "early: starting",
                "early: start",
                "plain: start",
                "early: started",
            ],
            events.TakeWhile(static e => e != "early: stopping"));
        Assert.Single(events, static e => e == "manager: AcquireMigrationLock");
        Assert.Equal(MigrationRunState.Completed, host.Services.GetRequiredService<MigrationStatusTracker>().State);
        Assert.True(manager.Disposed);
    }

    [Fact]
    public async Task A_failing_migration_fails_host_start_with_the_runners_error_and_nothing_else_starts()
    {
        var log = new EventLog();
        var manager = new InMemoryMigrationManager(log);
        var boom = new InvalidOperationException("boom");
        var builder = TestHosts.CreateBuilder();
        builder.Services.AddMigrations([TestHosts.Migration(1, log), TestHosts.Migration(2, log, (_, _) => throw boom)], _ => manager);
        builder.Services.AddSingleton<IHostedService>(_ => new RecordingHostedService(log, "app"));

        using var host = builder.Build();
        var exception = await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        Assert.Equal("failed to complete the migration with order 2: boom", exception.Message);
        Assert.Same(boom, exception.InnerException);
        Assert.DoesNotContain(log.Events, static e => e.StartsWith("app:", StringComparison.Ordinal));
        Assert.Equal(MigrationStatus.Completed, manager.Statuses[1]);
        Assert.Equal(MigrationStatus.Failed, manager.Statuses[2]);
        Assert.Equal(1, manager.MigrationLockReleaseCount);
        Assert.True(manager.Disposed);

        var tracker = host.Services.GetRequiredService<MigrationStatusTracker>();
        Assert.Equal(MigrationRunState.Failed, tracker.State);
        Assert.Same(exception, tracker.Error);
    }

    [Fact]
    public async Task Stopping_the_application_during_a_run_cancels_it_and_releases_the_lock()
    {
        var log = new EventLog();
        var manager = new InMemoryMigrationManager(log);
        var running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var builder = TestHosts.CreateBuilder();
        builder.Services.AddMigrations(
            [TestHosts.Migration(1, log, async (_, cancellationToken) =>
            {
                running.SetResult();
                await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            })],
            _ => manager);

        using var host = builder.Build();
        var start = host.StartAsync();
        await running.Task.WaitAsync(TestHosts.Timeout);
        host.Services.GetRequiredService<IHostApplicationLifetime>().StopApplication();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => start.WaitAsync(TestHosts.Timeout));
        Assert.Equal(1, manager.MigrationLockReleaseCount);
        Assert.False(manager.MigrationLockHeld);
        Assert.Equal(MigrationStatus.Started, manager.Statuses[1]);
        Assert.Equal(MigrationRunState.Failed, host.Services.GetRequiredService<MigrationStatusTracker>().State);
        Assert.IsAssignableFrom<OperationCanceledException>(host.Services.GetRequiredService<MigrationStatusTracker>().Error);
    }

    [Fact]
    public async Task Cancelling_the_start_token_during_a_run_cancels_it_and_releases_the_lock()
    {
        var log = new EventLog();
        var manager = new InMemoryMigrationManager(log);
        using var startCancellation = new CancellationTokenSource();
        var builder = TestHosts.CreateBuilder();
        builder.Services.AddMigrations(
            [TestHosts.Migration(1, log, async (_, cancellationToken) =>
            {
                await startCancellation.CancelAsync();
                await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            })],
            _ => manager);

        using var host = builder.Build();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => host.StartAsync(startCancellation.Token).WaitAsync(TestHosts.Timeout));
        Assert.Equal(1, manager.MigrationLockReleaseCount);
        Assert.Equal(MigrationStatus.Started, manager.Statuses[1]);
    }

    [Fact]
    public async Task Migrations_see_the_hosts_services_and_the_factory_gets_them_too()
    {
        var log = new EventLog();
        var marker = new Marker();
        Marker? seenByFactory = null;
        Marker? seen = null;
        var builder = TestHosts.CreateBuilder();
        builder.Services.AddSingleton(marker);
        builder.Services.AddScoped<ScopedThing>();
        builder.Services.AddMigrations(
            [TestHosts.Migration(1, log, (context, _) =>
            {
                seen = context.Services!.GetRequiredService<Marker>();
                Assert.NotNull(context.Services!.GetRequiredService<ScopedThing>());
                return Task.CompletedTask;
            })],
            services =>
            {
                seenByFactory = services.GetRequiredService<Marker>();
                return new InMemoryMigrationManager(log);
            });

        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Timeout);

        Assert.Same(marker, seen);
        Assert.Same(marker, seenByFactory);
        await host.StopAsync();
    }

    [Fact]
    public async Task Migrations_also_reach_what_the_manager_serves_after_the_hosts_services()
    {
        var log = new EventLog();
        var hostMarker = new Marker();
        var managerConnection = new ManagerConnection();
        Marker? seenMarker = null;
        ManagerConnection? seenConnection = null;
        var builder = TestHosts.CreateBuilder();
        builder.Services.AddSingleton(hostMarker);
        builder.Services.AddMigrations(
            [TestHosts.Migration(1, log, (context, _) =>
            {
                seenMarker = context.Services!.GetService(typeof(Marker)) as Marker;
                seenConnection = context.Services!.GetService(typeof(ManagerConnection)) as ManagerConnection;
                return Task.CompletedTask;
            })],
            _ => new ServingManager(log, managerConnection, new Marker()));

        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Timeout);

        Assert.Same(hostMarker, seenMarker);            // the host wins where both serve a type
        Assert.Same(managerConnection, seenConnection); // the manager serves what the host does not
        await host.StopAsync();
    }

    [Fact]
    public async Task A_connection_the_manager_serves_wins_over_one_the_host_registers()
    {
        var log = new EventLog();
        var hostConnection = new FakeConnection();
        var managerConnection = new FakeConnection();
        DbConnection? seenAsDbConnection = null;
        FakeConnection? seenAsProviderType = null;
        var builder = TestHosts.CreateBuilder();
        builder.Services.AddSingleton<DbConnection>(hostConnection); // as AddNpgsqlDataSource registers one
        builder.Services.AddSingleton(hostConnection);
        builder.Services.AddMigrations(
            [TestHosts.Migration(1, log, (context, _) =>
            {
                seenAsDbConnection = context.Services!.GetService(typeof(DbConnection)) as DbConnection;
                seenAsProviderType = context.Services!.GetService(typeof(FakeConnection)) as FakeConnection;
                return Task.CompletedTask;
            })],
            _ => new ServingManager(log, new ManagerConnection(), new Marker(), managerConnection));

        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Timeout);

        Assert.Same(managerConnection, seenAsDbConnection);
        Assert.Same(managerConnection, seenAsProviderType);
        await host.StopAsync();
    }

    [Fact]
    public async Task The_run_logs_under_the_SourceGenMigrations_category()
    {
        var log = new EventLog();
        var provider = new CategoryRecordingProvider();
        var builder = TestHosts.CreateBuilder();
        builder.Logging.AddProvider(provider);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddMigrations([TestHosts.Migration(1, log)], _ => new InMemoryMigrationManager(log));

        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Timeout);

        Assert.Contains(provider.Entries, static entry => entry.Category == "SourceGenMigrations" && entry.Message.Contains("Migration 1 (Test.Migrations.M1) started", StringComparison.Ordinal));
        await host.StopAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_manager_is_disposed_after_the_run_unless_told_not_to(bool dispose)
    {
        var manager = new InMemoryMigrationManager();
        var builder = TestHosts.CreateBuilder();
        builder.Services.AddMigrations([TestHosts.Migration(1, manager.Log)], _ => manager, options => options.DisposeManager = dispose);

        using var host = builder.Build();
        await host.StartAsync().WaitAsync(TestHosts.Timeout);

        Assert.Equal(dispose, manager.Disposed);
        await host.StopAsync();
    }

    [Fact]
    public async Task A_failing_factory_fails_start_with_a_migration_exception()
    {
        var cause = new InvalidOperationException("no database");
        var builder = TestHosts.CreateBuilder();
        builder.Services.AddMigrations([], _ => throw cause);

        using var host = builder.Build();
        var exception = await Assert.ThrowsAsync<MigrationException>(() => host.StartAsync().WaitAsync(TestHosts.Timeout));

        Assert.Equal("failed to create the migration manager: no database", exception.Message);
        Assert.Same(cause, exception.InnerException);
    }

    [Fact]
    public void Adding_the_migrations_twice_is_an_error()
    {
        var services = new ServiceCollection();
        services.AddMigrations([], _ => new InMemoryMigrationManager());

        var exception = Assert.Throws<InvalidOperationException>(() => services.AddMigrations([], _ => new InMemoryMigrationManager()));
        Assert.Contains("AddMigrations was already called", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Null_arguments_are_rejected()
    {
        var services = new ServiceCollection();
        Assert.Throws<ArgumentNullException>(() => services.AddMigrations(null!, _ => new InMemoryMigrationManager()));
        Assert.Throws<ArgumentNullException>(() => services.AddMigrations([], null!));
    }

    private sealed class Marker;

    private sealed class ManagerConnection;

    /// <summary>A manager that serves its "connection" (and a competing marker), as the SQLite and PostgreSQL managers do.</summary>
    /// <summary>A connection type of a provider (nothing is opened).</summary>
    private sealed class FakeConnection : DbConnection
    {
        [System.Diagnostics.CodeAnalysis.AllowNull]
        public override string ConnectionString { get; set; } = "";

        public override string Database => "fake";

        public override string DataSource => "fake";

        public override string ServerVersion => "0";

        public override System.Data.ConnectionState State => System.Data.ConnectionState.Open;

        public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

        public override void Close()
        {
        }

        public override void Open()
        {
        }

        protected override DbTransaction BeginDbTransaction(System.Data.IsolationLevel isolationLevel) => throw new NotSupportedException();

        protected override DbCommand CreateDbCommand() => throw new NotSupportedException();
    }

    private sealed class ServingManager(EventLog log, ManagerConnection connection, Marker marker, FakeConnection? dbConnection = null) : IMigrationManager, IServiceProvider, IDisposable
    {
        private readonly InMemoryMigrationManager _inner = new(log);

        public object? GetService(Type serviceType) =>
            serviceType == typeof(ManagerConnection) ? connection
            : serviceType == typeof(Marker) ? marker
            : serviceType == typeof(DbConnection) || serviceType == typeof(FakeConnection) ? dbConnection
            : null;

        public Task AcquireDbLockAsync(CancellationToken cancellationToken) => _inner.AcquireDbLockAsync(cancellationToken);
        public Task EnsureDataStoresAsync(CancellationToken cancellationToken) => _inner.EnsureDataStoresAsync(cancellationToken);
        public Task ReleaseDbLockAsync(CancellationToken cancellationToken) => _inner.ReleaseDbLockAsync(cancellationToken);
        public Task AcquireMigrationLockAsync(CancellationToken cancellationToken) => _inner.AcquireMigrationLockAsync(cancellationToken);
        public Task MigrationLockHeartbeatAsync(CancellationToken cancellationToken) => _inner.MigrationLockHeartbeatAsync(cancellationToken);
        public Task<IReadOnlyList<PersistedStatus>> ListStatusesAsync(CancellationToken cancellationToken) => _inner.ListStatusesAsync(cancellationToken);
        public Task PersistStatusAsync(long order, MigrationStatus status, CancellationToken cancellationToken) => _inner.PersistStatusAsync(order, status, cancellationToken);
        public Task ReleaseMigrationLockAsync(CancellationToken cancellationToken) => _inner.ReleaseMigrationLockAsync(cancellationToken);
        public void Dispose() => _inner.Dispose();
    }

    private sealed class ScopedThing;

    private sealed class CategoryRecordingProvider : ILoggerProvider
    {
        private readonly List<(string Category, string Message)> _entries = [];

        public IReadOnlyList<(string Category, string Message)> Entries
        {
            get { lock (_entries) { return [.. _entries]; } }
        }

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        private sealed class Logger(CategoryRecordingProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                lock (owner._entries) { owner._entries.Add((category, formatter(state, exception))); }
            }
        }
    }
}

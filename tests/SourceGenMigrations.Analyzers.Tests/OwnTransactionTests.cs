namespace SourceGenMigrations.Analyzers.Tests;

/// <summary>SGM007: a transactional migration begins a transaction of its own on an ADO.NET connection.</summary>
public class OwnTransactionTests
{
    [Fact]
    public Task BeginTransaction_on_a_DbConnection_from_the_services_is_reported_at_the_call() => Verify.AnalyzerAsync(
        """
        using System.Data.Common;

        namespace App;

        public static class Migrations
        {
            [Migration(Order = 1)]
            public static void Backfill(MigrationContext context)
            {
                var connection = (DbConnection)context.Services!.GetService(typeof(DbConnection))!;
                using var transaction = {|#0:connection.BeginTransaction()|};
                transaction.Commit();
            }
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.OwnTransaction).WithLocation(0).WithArguments("App.Migrations.Backfill", "BeginTransaction"));

    [Fact]
    public Task BeginTransactionAsync_and_the_isolation_level_overloads_are_reported() => Verify.AnalyzerAsync(
        """
        using System.Data;
        using System.Data.Common;

        namespace App;

        public static class Migrations
        {
            [Migration(Order = 1, Transactional = true)]
            public static async Task Backfill(MigrationContext context, CancellationToken cancellationToken)
            {
                var connection = (DbConnection)context.Services!.GetService(typeof(DbConnection))!;
                await using var transaction = await {|#0:connection.BeginTransactionAsync(cancellationToken)|};
                await using var other = await {|SGM007:connection.BeginTransactionAsync(IsolationLevel.Serializable, cancellationToken)|};
                using var third = {|SGM007:connection.BeginTransaction(IsolationLevel.ReadCommitted)|};
            }
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.OwnTransaction).WithLocation(0).WithArguments("App.Migrations.Backfill", "BeginTransactionAsync"));

    [Fact]
    public Task BeginTransaction_on_an_IDbConnection_is_reported() => Verify.AnalyzerAsync(
        """
        using System.Data;

        public static class Migrations
        {
            [Migration(Order = 1)]
            public static Task Backfill(MigrationContext context)
            {
                var connection = (IDbConnection)context.Services!.GetService(typeof(IDbConnection))!;
                using var transaction = {|SGM007:connection.BeginTransaction()|};
                return Task.CompletedTask;
            }
        }
        """);

    [Fact]
    public Task BeginTransaction_on_a_derived_connection_type_is_reported() => Verify.AnalyzerAsync(
        """
        using System.Data;
        using System.Data.Common;

        public abstract class ProviderConnection : DbConnection
        {
            public new DbTransaction BeginTransaction(bool deferred) => base.BeginTransaction();
        }

        public abstract class ProviderOnlyInterface : IDbConnection
        {
            public abstract IDbTransaction BeginTransaction();
            public abstract IDbTransaction BeginTransaction(IsolationLevel il);
            public abstract void ChangeDatabase(string databaseName);
            public abstract void Close();
            public abstract IDbCommand CreateCommand();
            public abstract void Open();
            public abstract void Dispose();
            public abstract string ConnectionString { get; set; }
            public abstract int ConnectionTimeout { get; }
            public abstract string Database { get; }
            public abstract ConnectionState State { get; }
        }

        public static class Migrations
        {
            [Migration(Order = 1)]
            public static void Served(MigrationContext context)
            {
                var connection = (ProviderConnection)context.Services!.GetService(typeof(ProviderConnection))!;
                {|SGM007:connection.BeginTransaction(deferred: true)|}.Dispose();
                {|SGM007:connection.BeginTransaction()|}.Dispose();
                var other = (ProviderOnlyInterface)context.Services!.GetService(typeof(ProviderOnlyInterface))!;
                {|SGM007:other.BeginTransaction()|}.Dispose();
            }
        }
        """);

    [Fact]
    public Task Calls_in_lambdas_and_local_functions_of_the_migration_are_reported() => Verify.AnalyzerAsync(
        """
        using System.Data.Common;

        namespace App;

        public static class Migrations
        {
            [Migration(Order = 1)]
            public static async Task Backfill(MigrationContext context, CancellationToken cancellationToken)
            {
                var connection = (DbConnection)context.Services!.GetService(typeof(DbConnection))!;
                Func<Task<DbTransaction>> begin = () => {|#0:connection.BeginTransactionAsync(cancellationToken)|}.AsTask();
                await using var first = await begin();
                await using var second = await BeginAsync();

                async Task<DbTransaction> BeginAsync()
                {
                    Func<DbTransaction> nested = () => {|SGM007:connection.BeginTransaction()|};
                    return await {|SGM007:connection.BeginTransactionAsync(cancellationToken)|};
                }
            }
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.OwnTransaction).WithLocation(0).WithArguments("App.Migrations.Backfill", "BeginTransactionAsync"));

    [Fact]
    public Task Every_way_of_writing_the_call_is_reported() => Verify.AnalyzerAsync(
        """
        using System.Data;
        using System.Data.Common;

        namespace App;

        public abstract class ProviderConnection : DbConnection
        {
            public DbTransaction BeginTransaction<TOptions>() => base.BeginTransaction();
        }

        public static class Served
        {
            public static DbConnection Connection { get; } = null!;
            public static ProviderConnection? Provider { get; set; }
        }

        public static class Migrations
        {
            [Migration(Order = 1)]
            public static async Task Backfill(MigrationContext context, CancellationToken cancellationToken)
            {
                DbConnection? connection = (DbConnection?)context.Services?.GetService(typeof(DbConnection));
                connection?{|#0:.BeginTransaction()|}?.Dispose();
                connection?{|#1:.BeginTransaction(IsolationLevel.Serializable)|}?.Dispose();
                await using var chained = await {|#2:Served.Connection.BeginTransactionAsync(cancellationToken)|};
                {|#3:connection!.BeginTransaction()|}.Dispose();
                Served.Provider?{|#4:.BeginTransaction<object>()|}?.Dispose();
                {|#5:((IDbConnection)connection).@BeginTransaction()|}.Dispose();
            }
        }
        """,
        Verify.Diagnostic(DiagnosticDescriptors.OwnTransaction).WithLocation(0).WithArguments("App.Migrations.Backfill", "BeginTransaction"),
        Verify.Diagnostic(DiagnosticDescriptors.OwnTransaction).WithLocation(1).WithArguments("App.Migrations.Backfill", "BeginTransaction"),
        Verify.Diagnostic(DiagnosticDescriptors.OwnTransaction).WithLocation(2).WithArguments("App.Migrations.Backfill", "BeginTransactionAsync"),
        Verify.Diagnostic(DiagnosticDescriptors.OwnTransaction).WithLocation(3).WithArguments("App.Migrations.Backfill", "BeginTransaction"),
        Verify.Diagnostic(DiagnosticDescriptors.OwnTransaction).WithLocation(4).WithArguments("App.Migrations.Backfill", "BeginTransaction"),
        Verify.Diagnostic(DiagnosticDescriptors.OwnTransaction).WithLocation(5).WithArguments("App.Migrations.Backfill", "BeginTransaction"));

    [Fact]
    public Task Not_reported_for_calls_named_BeginTransaction_that_are_not_a_connection_method() => Verify.AnalyzerAsync(
        """
        using System.Data.Common;

        public static class ConnectionExtensions
        {
            public static DbTransaction BeginTransaction(this DbConnection connection, bool deferred) => connection.BeginTransaction();
            public static IDisposable? BeginTransactionAsync(this DbDataSource? dataSource) => null;
        }

        public static class Migrations
        {
            private static Func<DbConnection, DbTransaction> BeginTransactionAsync { get; } = static connection => connection.BeginTransaction();

            private static DbTransaction BeginTransaction(DbConnection connection) => connection.BeginTransaction();

            [Migration(Order = 1)]
            public static void Backfill(MigrationContext context)
            {
                var connection = (DbConnection)context.Services!.GetService(typeof(DbConnection))!;
                var dataSource = (DbDataSource?)context.Services!.GetService(typeof(DbDataSource));
                connection.BeginTransaction(deferred: true).Dispose();
                dataSource?.BeginTransactionAsync()?.Dispose();
                BeginTransactionAsync(connection).Dispose();
                BeginTransaction(connection).Dispose();
                Func<DbTransaction> group = connection.BeginTransaction;
                ((dynamic)connection).BeginTransaction();
            }
        }
        """);

    [Fact]
    public Task A_call_in_the_implementing_part_of_a_partial_migration_is_reported() => Verify.AnalyzerAsync(
        """
        using System.Data.Common;

        public static partial class Migrations
        {
            [Migration(Order = 1)]
            public static partial void Backfill(MigrationContext context);

            public static partial void Backfill(MigrationContext context)
            {
                var connection = (DbConnection)context.Services!.GetService(typeof(DbConnection))!;
                {|SGM007:connection.BeginTransaction()|}.Dispose();
            }
        }
        """);

    [Fact]
    public Task Not_reported_in_a_non_transactional_migration() => Verify.AnalyzerAsync(
        """
        using System.Data;
        using System.Data.Common;

        public static class Migrations
        {
            private const bool ManagesItsOwn = false;

            [Migration(Order = 1, Transactional = false)]
            public static async Task Concurrently(MigrationContext context, CancellationToken cancellationToken)
            {
                var connection = (DbConnection)context.Services!.GetService(typeof(DbConnection))!;
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                Func<IDbTransaction> begin = () => ((IDbConnection)connection).BeginTransaction();
            }

            [Migration(Transactional = ManagesItsOwn, Order = 2)]
            public static void ByConstant(MigrationContext context) =>
                ((DbConnection)context.Services!.GetService(typeof(DbConnection))!).BeginTransaction().Dispose();
        }
        """);

    [Fact]
    public Task Not_reported_outside_migrations_nor_for_other_types_with_the_same_method_name() => Verify.AnalyzerAsync(
        """
        using System.Data.Common;

        public sealed class UnitOfWork
        {
            public IDisposable BeginTransaction() => throw new NotSupportedException();
            public Task BeginTransactionAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        }

        public static class Extensions
        {
            public static IDisposable BeginTransaction(this DbDataSource dataSource, bool deferred) => throw new NotSupportedException();
        }

        public static class Migrations
        {
            [Migration(Order = 1)]
            public static async Task Backfill(MigrationContext context, CancellationToken cancellationToken)
            {
                var unitOfWork = (UnitOfWork)context.Services!.GetService(typeof(UnitOfWork))!;
                unitOfWork.BeginTransaction().Dispose();
                await unitOfWork.BeginTransactionAsync(cancellationToken);
                var dataSource = (DbDataSource)context.Services!.GetService(typeof(DbDataSource))!;
                dataSource.BeginTransaction(deferred: true).Dispose();
            }

            public static void NotAMigration(DbConnection connection) => connection.BeginTransaction().Dispose();

            public static Func<DbConnection, DbTransaction> Field = static connection => connection.BeginTransaction();
        }
        """);

    [Fact]
    public Task Not_reported_without_the_runtime_library()
    {
        var test = new AnalyzerTest(withRuntime: false)
        {
            TestCode = """
                using System.Data.Common;

                public static class Migrations
                {
                    public static void Backfill(DbConnection connection) => connection.BeginTransaction().Dispose();
                }
                """,
        };
        return test.RunAsync();
    }
}

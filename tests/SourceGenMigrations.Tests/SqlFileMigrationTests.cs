using System.Data;
using System.Data.Common;
using SourceGenMigrations.Shared;
using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>SQL-file migrations at run time: the statement splitter, the database filter, the checksum check, the executor.</summary>
public sealed class SqlFileMigrationTests
{
    [Fact]
    public void Split_respects_quotes_comments_and_dollar_bodies()
    {
        const string sql = """
            -- leading comment; not a statement
            CREATE TABLE t (a text DEFAULT 'x;y', "b;c" int);
            /* block; /* nested; */ still comment; */
            CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;
            CREATE FUNCTION g() RETURNS int AS $body$ BEGIN RETURN 2; END; $body$ LANGUAGE plpgsql;
            INSERT INTO t (a) VALUES ('it''s; fine'), (E'esc\'; aped');
            SELECT $1, `x;y` FROM t -- trailing; comment
            ;
            -- only a comment at the end;
            """;

        var statements = SqlScript.Split(sql);

        Assert.Equal(
            [
                "-- leading comment; not a statement\nCREATE TABLE t (a text DEFAULT 'x;y', \"b;c\" int)",
                "/* block; /* nested; */ still comment; */\nCREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql",
                "CREATE FUNCTION g() RETURNS int AS $body$ BEGIN RETURN 2; END; $body$ LANGUAGE plpgsql",
                "INSERT INTO t (a) VALUES ('it''s; fine'), (E'esc\\'; aped')",
                "SELECT $1, `x;y` FROM t -- trailing; comment",
            ],
            statements.Select(s => s.ReplaceLineEndings("\n")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n\t")]
    [InlineData("-- migration: no-transaction\n-- nothing else")]
    [InlineData("/* only */ ; ; -- comments")]
    public void Text_of_only_white_space_and_comments_has_no_statement(string sql) => Assert.False(SqlScript.HasStatements(sql));

    [Fact]
    public void Text_without_a_final_semicolon_is_one_statement() => Assert.Equal(["SELECT 1"], SqlScript.Split("SELECT 1\n"));

    [Fact]
    public void Generated_table_reads_the_database_flags_and_the_checksums()
    {
        var table = MigrationRegistration.CreateTable([1, 2, 3, 4], [0, 8 | 2, 16 | 1, 32], "a\nb\nc\nd", (_, _, _) => Task.CompletedTask, [null, "ab", "cd", null]);

        Assert.Equal([null, "postgresql", "sqlite", "mysql"], table.Select(r => r.SqlDialect));
        Assert.Equal([null, "ab", "cd", null], table.Select(r => r.Checksum));
        Assert.Equal([true, false, true, true], table.Select(r => r.Transactional));
        Assert.Equal([true, true, false, true], table.Select(r => r.Enabled));
        Assert.Throws<ArgumentException>(() => MigrationRegistration.CreateTable([1], [8 | 16], null, (_, _, _) => Task.CompletedTask, null));
        Assert.Throws<ArgumentException>(() => MigrationRegistration.CreateTable([1], null, null, (_, _, _) => Task.CompletedTask, [null, null]));
    }

    [Fact]
    public async Task A_manager_runs_the_migrations_for_its_database_and_those_for_every_database()
    {
        var ran = new List<long>();
        var registrations = new[]
        {
            Reg(1, ran),
            WithDialect(Reg(2, ran), MigrationSqlDialects.PostgreSql),
            WithDialect(Reg(3, ran), MigrationSqlDialects.Sqlite),
            Reg(4, ran),
        };

        await Run(new DialectManager(MigrationSqlDialects.Sqlite), registrations, Options());
        Assert.Equal([1, 3, 4], ran);

        ran.Clear();
        await Run(new DialectManager("PostgreSQL"), registrations, Options());
        Assert.Equal([1, 2, 4], ran);

        // A manager that names no database runs only what is for every database.
        ran.Clear();
        await Run(new FakeMigrationManager(), registrations, Options());
        Assert.Equal([1, 4], ran);
    }

    [Fact]
    public async Task A_completed_sql_file_whose_content_changed_stops_the_run_before_anything_runs_and_names_it()
    {
        var manager = new FakeMigrationManager();
        manager.InitialStatuses.Add(new PersistedStatus(1, MigrationStatus.Completed) { Checksum = "aaaa" });
        manager.InitialStatuses.Add(new PersistedStatus(2, MigrationStatus.Completed) { Checksum = "bbbb" });
        var ran = new List<long>();
        var registrations = new[]
        {
            WithChecksum(Reg(1, ran, name: "Migrations/0001_first.sql"), "AAAA"),
            WithChecksum(Reg(2, ran, name: "Migrations/0002_second.sql"), "cccc"),
            Reg(3, ran),
        };

        var error = await Assert.ThrowsAsync<MigrationException>(() => Run(manager, registrations, Options()));

        Assert.Empty(ran);
        Assert.Contains("found completed SQL migration(s) whose file changed since they ran: 2 (Migrations/0002_second.sql)", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("0001_first", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(manager.Calls, c => c.StartsWith("PersistStatus", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_status_without_a_checksum_and_a_method_without_one_are_not_compared()
    {
        var manager = new FakeMigrationManager().WithStatus(1, MigrationStatus.Completed);
        manager.InitialStatuses.Add(new PersistedStatus(2, MigrationStatus.Completed) { Checksum = "bbbb" });
        var ran = new List<long>();

        await Run(manager, [WithChecksum(Reg(1, ran), "aaaa"), Reg(2, ran), Reg(3, ran)], Options());

        Assert.Equal([3], ran);
    }

    [Fact]
    public async Task The_runner_hands_the_checksum_to_a_transactional_manager()
    {
        var manager = new FakeTransactionalManager();
        await Run(manager, [WithChecksum(Reg(1, []), "abcd"), Reg(2, [])], Options());

        Assert.Equal(["abcd", null], manager.Begun.Select(d => d.Checksum));
    }

    [Fact]
    public async Task A_transactional_file_runs_as_one_command_and_a_non_transactional_one_statement_by_statement()
    {
        var connection = new RecordingConnection();
        var services = new SingleService(connection);
        var context = new MigrationContext(1, "Migrations/0001_x.sql", MigrationStatus.Pending, services, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

        await SqlFileMigration.RunAsync(context, "CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n"u8, transactional: true, CancellationToken.None);
        await SqlFileMigration.RunAsync(context, "-- migration: no-transaction\nCREATE INDEX CONCURRENTLY i ON a (x);\nSELECT 'a;b';\n"u8, transactional: false, CancellationToken.None);

        Assert.Equal(
            [
                "CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n",
                "-- migration: no-transaction\nCREATE INDEX CONCURRENTLY i ON a (x)",
                "SELECT 'a;b'",
            ],
            connection.Executed);
    }

    private static MigrationRegistration WithDialect(MigrationRegistration registration, string dialect) =>
        new(registration.Order, registration.Migrate, registration.Enabled, registration.Name) { SqlDialect = dialect };

    private static MigrationRegistration WithChecksum(MigrationRegistration registration, string checksum) =>
        new(registration.Order, registration.Migrate, registration.Enabled, registration.Name) { Checksum = checksum };

    private sealed class DialectManager(string dialect) : FakeMigrationManager, IMigrationSqlDialect
    {
        public string SqlDialect => dialect;
    }

    private sealed class SingleService(DbConnection connection) : IServiceProvider
    {
        public object? GetService(Type serviceType) => serviceType == typeof(DbConnection) ? connection : null;
    }

    /// <summary>A connection that records the text of every command executed on it.</summary>
    private sealed class RecordingConnection : DbConnection
    {
        public List<string> Executed { get; } = [];

        [System.Diagnostics.CodeAnalysis.AllowNull]
        public override string ConnectionString { get; set; } = string.Empty;

        public override string Database => "test";

        public override string DataSource => "test";

        public override string ServerVersion => "1";

        public override ConnectionState State => ConnectionState.Open;

        public override void ChangeDatabase(string databaseName) => throw new NotSupportedException();

        public override void Close()
        {
        }

        public override void Open()
        {
        }

        protected override DbTransaction BeginDbTransaction(IsolationLevel isolationLevel) => throw new NotSupportedException();

        protected override DbCommand CreateDbCommand() => new RecordingCommand(this);

        private sealed class RecordingCommand(RecordingConnection connection) : DbCommand
        {
            [System.Diagnostics.CodeAnalysis.AllowNull]
            public override string CommandText { get; set; } = string.Empty;

            public override int CommandTimeout { get; set; }

            public override CommandType CommandType { get; set; }

            public override bool DesignTimeVisible { get; set; }

            public override UpdateRowSource UpdatedRowSource { get; set; }

            protected override DbConnection? DbConnection { get; set; }

            protected override DbParameterCollection DbParameterCollection => throw new NotSupportedException();

            protected override DbTransaction? DbTransaction { get; set; }

            public override void Cancel()
            {
            }

            public override int ExecuteNonQuery()
            {
                connection.Executed.Add(CommandText);
                return 0;
            }

            public override object? ExecuteScalar() => throw new NotSupportedException();

            public override void Prepare()
            {
            }

            protected override DbParameter CreateDbParameter() => throw new NotSupportedException();

            protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => throw new NotSupportedException();
        }
    }
}

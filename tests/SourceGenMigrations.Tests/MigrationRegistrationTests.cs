namespace SourceGenMigrations.Tests;

/// <summary>
/// The two forms of a registration (a delegate; an index into a dispatcher) and the generated table's form
/// (<see cref="MigrationRegistration.CreateTable"/>: orders, flags and names as data, one dispatcher).
/// </summary>
public sealed class MigrationRegistrationTests
{
    private static readonly MigrationContext Context = new(7, "context", MigrationStatus.Pending, null, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance);

    [Fact]
    public void CreateTableReadsOrdersFlagsAndNames()
    {
        var table = MigrationRegistration.CreateTable(
            [1, 2, 3, 4, 5],
            [0, 1, 2, 4, 7],
            "Ns.A.First\nNs.A.Second\nNs.B.Third\nNs.B.Fourth\nNs.B.Fifth",
            static (_, _, _) => Task.CompletedTask);

        Assert.Equal([1L, 2L, 3L, 4L, 5L], table.Select(r => r.Order));
        Assert.Equal([true, false, true, true, false], table.Select(r => r.Enabled));
        Assert.Equal([true, true, false, true, false], table.Select(r => r.Transactional));
        Assert.Equal([false, false, false, true, true], table.Select(r => r.BreaksOlderBuilds));
        Assert.Equal(["Ns.A.First", "Ns.A.Second", "Ns.B.Third", "Ns.B.Fourth", "Ns.B.Fifth"], table.Select(r => r.Name));
        Assert.Equal("Ns.B.Third", table[2].DisplayName);
        Assert.Equal("Ns.B.Third", table[2].ToString());
    }

    [Fact]
    public void NamesAreReadLazilyAndSurviveWindowsLineEnds()
    {
        // A verbatim string in a source checked out with CRLF line ends holds "\r\n" between two names.
        var table = MigrationRegistration.CreateTable([10, 20, 30], null, "First\r\nSecond\r\nThird", static (_, _, _) => Task.CompletedTask);

        Assert.Equal("Third", table[2].Name);
        Assert.Equal(["First", "Second", "Third"], table.Select(r => r.Name));
    }

    [Fact]
    public void WithoutNamesTheOrderIsShown()
    {
        var table = MigrationRegistration.CreateTable([10, 20], null, null, static (_, _, _) => Task.CompletedTask);

        Assert.Null(table[0].Name);
        Assert.Equal("migration 20", table[1].DisplayName);
    }

    [Fact]
    public async Task EachEntryCallsTheDispatcherWithItsIndex()
    {
        var calls = new List<(int Index, MigrationContext Context, CancellationToken Token)>();
        var table = MigrationRegistration.CreateTable([5, 6, 7], null, "A\nB\nC", (index, context, token) =>
        {
            calls.Add((index, context, token));
            return Task.CompletedTask;
        });
        using var source = new CancellationTokenSource();

        await table[2].Migrate(Context, source.Token);
        await table[0].InvokeAsync(Context, CancellationToken.None);

        Assert.Equal([(2, Context, source.Token), (0, Context, CancellationToken.None)], calls);
        Assert.Same(table[2].Migrate, table[2].Migrate);
    }

    [Fact]
    public async Task TheDispatcherConstructorBindsTheIndex()
    {
        var seen = -1;
        var registration = new MigrationRegistration(3, 41, (index, _, _) => { seen = index; return Task.CompletedTask; }, enabled: false, name: "Named", transactional: false, breaksOlderBuilds: true);

        await registration.Migrate(Context, CancellationToken.None);

        Assert.Equal(41, seen);
        Assert.Equal((3L, false, "Named", false, true), (registration.Order, registration.Enabled, registration.Name, registration.Transactional, registration.BreaksOlderBuilds));
    }

    [Fact]
    public async Task TheDelegateFormIsUnchanged()
    {
        var ran = false;
        Func<MigrationContext, CancellationToken, Task> migrate = (_, _) => { ran = true; return Task.CompletedTask; };
        var registration = new MigrationRegistration(1, migrate, name: "One");

        await registration.InvokeAsync(Context, CancellationToken.None);

        Assert.True(ran);
        Assert.Same(migrate, registration.Migrate);
        Assert.Equal("One", registration.Name);
    }

    [Fact]
    public void InvalidArgumentsAreRejected()
    {
        MigrationDispatcher dispatcher = static (_, _, _) => Task.CompletedTask;

        Assert.Throws<ArgumentNullException>("dispatcher", () => new MigrationRegistration(1, 0, null!));
        Assert.Throws<ArgumentOutOfRangeException>("index", () => new MigrationRegistration(1, -1, dispatcher));
        Assert.Throws<ArgumentOutOfRangeException>("order", () => new MigrationRegistration(-1, 0, dispatcher));
        Assert.Throws<ArgumentNullException>("orders", () => MigrationRegistration.CreateTable(null!, null, null, dispatcher));
        Assert.Throws<ArgumentNullException>("dispatcher", () => MigrationRegistration.CreateTable([1], null, null, null!));
        Assert.Throws<ArgumentException>("flags", () => MigrationRegistration.CreateTable([1, 2], [0], null, dispatcher));
        Assert.Throws<ArgumentOutOfRangeException>("order", () => MigrationRegistration.CreateTable([1, -2], null, null, dispatcher));
    }

    [Fact]
    public void NamesThatDoNotMatchTheOrdersAreAnErrorWhenRead()
    {
        MigrationDispatcher dispatcher = static (_, _, _) => Task.CompletedTask;

        Assert.Throws<InvalidOperationException>(() => MigrationRegistration.CreateTable([1, 2, 3], null, "A\nB", dispatcher)[0].Name);
        Assert.Throws<InvalidOperationException>(() => MigrationRegistration.CreateTable([1, 2], null, "A\nB\nC", dispatcher)[1].Name);
    }

    [Fact]
    public async Task TheRunnerRunsATableThroughItsDispatcher()
    {
        var ran = new List<int>();
        var table = MigrationRegistration.CreateTable([1, 2, 3], [0, 1, 0], "Ns.One\nNs.Two\nNs.Three", (index, context, _) =>
        {
            ran.Add(index);
            Assert.Equal(index == 0 ? "Ns.One" : "Ns.Three", context.Name);
            return Task.CompletedTask;
        });
        var manager = new FakeMigrationManager();

        await TestSupport.Run(manager, table, TestSupport.Options());

        Assert.Equal([0, 2], ran);
    }
}

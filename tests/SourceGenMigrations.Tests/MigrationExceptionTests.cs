using static SourceGenMigrations.Tests.TestSupport;

namespace SourceGenMigrations.Tests;

/// <summary>The message is one line, "&lt;step&gt;: &lt;innermost cause&gt;"; the step and the order are properties.</summary>
public sealed class MigrationExceptionTests
{
    [Fact]
    public async Task A_failing_migration_names_its_order_and_the_first_line_of_the_innermost_cause()
    {
        // A provider's error: its summary on the first line, details that may hold row data below (Npgsql's DETAIL).
        var provider = new InvalidOperationException("23505: duplicate key value violates unique constraint \"users_pkey\"\n\nDETAIL: Key (email)=(alice@example.com) already exists.");
        var wrapped = new InvalidOperationException("the backfill failed", provider);

        var ex = await Assert.ThrowsAsync<MigrationException>(
            () => Run(new FakeMigrationManager(), [Reg(1, []), Reg(3, [], body: (_, _) => throw wrapped)], Options()));

        Assert.Equal("failed to complete the migration with order 3: 23505: duplicate key value violates unique constraint \"users_pkey\"", ex.Message);
        Assert.Equal("failed to complete the migration with order 3", ex.Step);
        Assert.Equal(3, ex.Order);
        Assert.Same(wrapped, ex.InnerException);
        Assert.DoesNotContain("alice", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wrapper_whose_message_holds_its_cause_counts_as_the_innermost()
    {
        // A manager naming the database around the provider's error: the message keeps the name.
        var provider = new InvalidOperationException("SQLite Error 14: 'unable to open database file'.");
        var named = new InvalidOperationException("SQLite Error 14: 'unable to open database file'. (SQLite database file '/data/app.db')", provider);

        var ex = new MigrationException("failed to acquire the database lock", named);

        Assert.Equal("failed to acquire the database lock: SQLite Error 14: 'unable to open database file'. (SQLite database file '/data/app.db')", ex.Message);
    }

    [Fact]
    public void A_step_without_a_cause_is_the_message_and_a_step_that_already_says_the_cause_is_not_repeated()
    {
        Assert.Equal("cannot run migrations out of order (found 1 but latest completed is 2)", new MigrationException("cannot run migrations out of order (found 1 but latest completed is 2)").Message);
        Assert.Equal(
            "heartbeat failed 1 time(s) with latest error of (gone)",
            new MigrationException("heartbeat failed 1 time(s) with latest error of (gone)", new InvalidOperationException("gone")).Message);
    }

    [Fact]
    public void Several_failures_join_their_messages_and_steps_and_keep_the_order_they_share()
    {
        var combined = MigrationException.Combine(
        [
            new MigrationException("failed to complete the migration with order 2", 2, new InvalidOperationException("boom")),
            new MigrationException("failed to persist the status FAILED for the migration order 2", 2, new TimeoutException("too slow")),
        ]);

        Assert.Equal("failed to complete the migration with order 2: boom; failed to persist the status FAILED for the migration order 2: too slow", combined.Message);
        Assert.Equal("failed to complete the migration with order 2; failed to persist the status FAILED for the migration order 2", combined.Step);
        Assert.Equal(2, combined.Order);
        Assert.Null(MigrationException.Combine([new MigrationException("a", 1, null), new MigrationException("b", 2, null)]).Order);
    }
}

namespace SourceGenMigrations.Internal;

/// <summary>
/// A manager's owner id, as its lease row and status rows carry it: the configured one, or one generated the first time
/// it is needed. Generated lazily because a start with nothing to do writes no row (the host name and the random part
/// cost ~3 ms of a cold start); every caller sees the same value.
/// </summary>
internal sealed class OwnerIdentity(string? configured)
{
    private string? _value = configured;

    public string Value
    {
        get
        {
            if (Volatile.Read(ref _value) is { } value)
            {
                return value;
            }

            Interlocked.CompareExchange(ref _value, ManagerValidation.NewOwnerId(), null);
            return _value!;
        }
    }
}

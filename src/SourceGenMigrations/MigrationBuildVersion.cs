using System.Reflection;

namespace SourceGenMigrations;

/// <summary>The build version a run stores with its statuses (<see cref="MigrationOptions.BuildVersion"/>).</summary>
internal static class MigrationBuildVersion
{
    /// <summary>The longest version text stored (the status table keeps it beside the owner id).</summary>
    private const int MaxLength = 200;

    private static string? s_default;
    private static bool s_defaultRead;

    /// <summary>The configured version, the entry assembly's when null, none when empty.</summary>
    public static string? Resolve(string? configured) => configured switch
    {
        null => Default(),
        "" => null,
        _ => Clean(configured),
    };

    /// <summary>
    /// The entry assembly's name and informational version (<c>MyService 1.4.2+3f2a1c9</c>), read once. An assembly
    /// attribute read is NativeAOT-safe (the compiler keeps the attributes of the entry assembly's metadata it reads).
    /// </summary>
    private static string? Default()
    {
        if (!Volatile.Read(ref s_defaultRead))
        {
            s_default = Read();
            Volatile.Write(ref s_defaultRead, true);
        }

        return s_default;
    }

    private static string? Read()
    {
        var assembly = Assembly.GetEntryAssembly();
        if (assembly is null)
        {
            return null;
        }

        var name = assembly.GetName();
        var version = assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? name.Version?.ToString();
        return Clean(version is null ? name.Name : name.Name + " " + version);
    }

    // One line, no control characters, bounded: the value goes into a status row and into operators' tables.
    private static string? Clean(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        var chars = text.Trim().Select(static c => char.IsControl(c) ? ' ' : c).ToArray();
        var clean = new string(chars);
        return clean.Length <= MaxLength ? clean : clean[..MaxLength];
    }
}

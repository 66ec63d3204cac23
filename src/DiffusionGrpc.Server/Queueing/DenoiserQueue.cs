using System.Threading.Channels;
using DiffusionGrpc.Server.Hosting;
using Grpc.Core;
using Microsoft.Extensions.Options;

namespace DiffusionGrpc.Server.Queueing;

/// <summary>
/// Admission to the denoiser: at most <see cref="QueueOptions.MaxConcurrent"/> jobs run, up to
/// <see cref="QueueOptions.Capacity"/> wait in FIFO order and hear their position whenever it changes;
/// beyond that, RESOURCE_EXHAUSTED.
/// </summary>
public sealed class DenoiserQueue
{
    private readonly object _gate = new();
    private readonly LinkedList<Waiter> _waiting = new();
    private readonly int _maxConcurrent;
    private readonly int _capacity;
    private int _running;

    /// <summary>Creates the queue from configuration.</summary>
    public DenoiserQueue(IOptions<DiffusionOptions> options)
    {
        _maxConcurrent = Math.Max(1, options.Value.Queue.MaxConcurrent);
        _capacity = Math.Max(0, options.Value.Queue.Capacity);
    }

    /// <summary>Jobs running now.</summary>
    public int Running { get { lock (_gate) { return _running; } } }

    /// <summary>Jobs waiting now.</summary>
    public int Waiting { get { lock (_gate) { return _waiting.Count; } } }

    /// <summary>
    /// Enters the queue. The returned ticket yields queue positions while the job waits and completes when
    /// it may run; disposing it leaves the queue or frees the slot.
    /// </summary>
    /// <exception cref="RpcException">RESOURCE_EXHAUSTED when the queue is full.</exception>
    public QueueTicket Enter()
    {
        lock (_gate)
        {
            if (_running < _maxConcurrent && _waiting.Count == 0)
            {
                _running++;
                return new QueueTicket(this, null);
            }
            if (_waiting.Count >= _capacity)
            {
                throw new RpcException(new Status(StatusCode.ResourceExhausted,
                    $"The denoiser queue is full ({_capacity} waiting, {_running} running); retry later."));
            }
            var waiter = new Waiter();
            waiter.Node = _waiting.AddLast(waiter);
            waiter.Positions.Writer.TryWrite(_waiting.Count);
            return new QueueTicket(this, waiter);
        }
    }

    internal void Leave(Waiter? waiter)
    {
        lock (_gate)
        {
            if (waiter is not null && waiter.Node?.List is not null)
            {
                // Left while waiting (cancelled): the ones behind move up.
                _waiting.Remove(waiter.Node);
                waiter.Positions.Writer.TryComplete();
                AnnouncePositions();
                return;
            }
            _running--;
            while (_running < _maxConcurrent && _waiting.First is { } next)
            {
                _waiting.RemoveFirst();
                _running++;
                next.Value.Positions.Writer.TryComplete();
            }
            AnnouncePositions();
        }
    }

    private void AnnouncePositions()
    {
        int position = 1;
        for (var node = _waiting.First; node is not null; node = node.Next, position++)
        {
            node.Value.Positions.Writer.TryWrite(position);
        }
    }

    internal sealed class Waiter
    {
        public Channel<int> Positions { get; } = Channel.CreateUnbounded<int>(new UnboundedChannelOptions { SingleReader = true });

        public LinkedListNode<Waiter>? Node { get; set; }
    }
}

/// <summary>A place in the <see cref="DenoiserQueue"/>: dispose it when the job ends.</summary>
public sealed class QueueTicket : IDisposable
{
    private readonly DenoiserQueue _queue;
    private readonly DenoiserQueue.Waiter? _waiter;
    private int _disposed;

    internal QueueTicket(DenoiserQueue queue, DenoiserQueue.Waiter? waiter)
    {
        _queue = queue;
        _waiter = waiter;
    }

    /// <summary>
    /// The positions while waiting (1 = next), each when it changes; the enumeration ends when the job
    /// may run. Empty when a slot was free at once.
    /// </summary>
    public async IAsyncEnumerable<int> WaitAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (_waiter is null)
        {
            yield break;
        }
        int last = 0;
        await foreach (var position in _waiter.Positions.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            if (position != last)
            {
                last = position;
                yield return position;
            }
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _queue.Leave(_waiter);
        }
    }
}

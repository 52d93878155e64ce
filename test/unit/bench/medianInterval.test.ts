import { medianInterval } from '../../../bench/medianInterval';

test('the 95% interval of a median is given by the sign test’s ranks', () => {
    const ranks = (n: number): [number | undefined, number | undefined] => {
        const values = Array.from({ length: n }, (_, index) => index + 1);
        const { low, high } = medianInterval(values.reverse());
        return [low, high];
    };
    // Published tables of the sign test's interval: n = 6: ranks 1 and 6; n = 9: 2 and 8; n = 15: 4 and 12;
    // n = 21: 6 and 16. With 5 values no rank gives 95%.
    expect(ranks(5)).toEqual([undefined, undefined]);
    expect(ranks(6)).toEqual([1, 6]);
    expect(ranks(9)).toEqual([2, 8]);
    expect(ranks(15)).toEqual([4, 12]);
    expect(ranks(21)).toEqual([6, 16]);
});

test('the median of an odd and an even count', () => {
    expect(medianInterval([3, -1, 2]).median).toBe(2);
    expect(medianInterval([4, 1, 3, 2]).median).toBe(2.5);
    expect(() => medianInterval([])).toThrow(/at least one/);
});
